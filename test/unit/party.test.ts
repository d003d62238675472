// Party generator, model and trainer: distinct guests, determinism by seed, the asker never asks
// about themselves, attention rows are distributions, and a few training steps lower the loss.
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateParties, MAX_GUESTS, MIN_GUESTS, PARTY_NAMES, PARTY_STORIES, partyTensors } from "../../src/data/party.js";
import { PartyModel } from "../../src/nn/party.js";
import { PartyTrainer } from "../../src/train/party.js";
import { Rng } from "../../src/util/random.js";

test("generateParties: names and stories are distinct within each party, asker != target", () => {
  for (const N of [MIN_GUESTS, 5, 8, MAX_GUESTS]) {
    const p = generateParties(new Rng(7), 200, N);
    assert.equal(p.names.length, 200 * N);
    for (let b = 0; b < p.size; b++) {
      const names = p.names.slice(b * N, (b + 1) * N), stories = p.stories.slice(b * N, (b + 1) * N);
      assert.equal(new Set(names).size, N, `party ${b} repeats a name`);
      assert.equal(new Set(stories).size, N, `party ${b} repeats a story`);
      for (const id of names) assert.ok(id >= 0 && id < PARTY_NAMES.length);
      for (const id of stories) assert.ok(id >= 0 && id < PARTY_STORIES.length);
      assert.ok(p.asker[b] >= 0 && p.asker[b] < N && p.target[b] >= 0 && p.target[b] < N);
      assert.notEqual(p.asker[b], p.target[b], `party ${b}: the asker asks about themselves`);
    }
  }
});

test("generateParties: the same seed gives the same parties, another seed different ones", () => {
  const a = generateParties(new Rng(3), 50, 8), b = generateParties(new Rng(3), 50, 8), c = generateParties(new Rng(4), 50, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.names, c.names);
});

test("generateParties: every guest position is asked about, and every name and story is used", () => {
  const N = 8, p = generateParties(new Rng(11), 4000, N);
  const targets = new Array(N).fill(0);
  for (const t of p.target) targets[t]++;
  // uniform over 8 positions: 500 each expected; a biased draw (e.g. never the last guest) fails
  for (const count of targets) assert.ok(count > 400 && count < 600, `target counts ${targets}`);
  assert.equal(new Set(p.names).size, PARTY_NAMES.length);
  assert.equal(new Set(p.stories).size, PARTY_STORIES.length);
});

test("generateParties: rejects a guest count outside the pools", () => {
  assert.throws(() => generateParties(new Rng(0), 4, MAX_GUESTS + 1), /generateParties: .*guests.*got 25/);
  assert.throws(() => generateParties(new Rng(0), 4, 1), /generateParties/);
  assert.throws(() => generateParties(new Rng(0), 0, 8), /generateParties: .*batch size/);
});

test("partyTensors: the answer is the target's story and the question names the asker and the target", () => {
  const p = generateParties(new Rng(5), 30, 6);
  const t = partyTensors(p);
  assert.deepEqual(t.names.shape, [30, 6]);
  for (let b = 0; b < 30; b++) {
    assert.equal(t.answer.values[b], p.stories[b * 6 + p.target[b]]);
    assert.equal(t.targetName.values[b], p.names[b * 6 + p.target[b]]);
    assert.equal(t.askerName.values[b], p.names[b * 6 + p.asker[b]]);
  }
});

test("PartyModel: logits (B, stories) and attention rows over the guests that sum to 1", () => {
  const model = new PartyModel({ numNames: PARTY_NAMES.length, numStories: PARTY_STORIES.length, modelDim: 16, rng: new Rng(1) });
  const t = partyTensors(generateParties(new Rng(2), 5, 7));
  const { logits, weights } = model.forward(t.names, t.stories, t.askerName, t.targetName, { returnWeights: true });
  assert.deepEqual(logits.shape, [5, PARTY_STORIES.length]);
  assert.ok(weights !== null);
  assert.deepEqual(weights.shape, [5, 1, 7]);
  for (let b = 0; b < 5; b++) {
    let s = 0;
    for (let n = 0; n < 7; n++) s += weights.values[b * 7 + n];
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${b} sums to ${s}`);
  }
  assert.throws(() => model.forward(t.names, t.stories, t.askerName.slice(0, 0, 2), t.targetName), /PartyModel.forward: expected askerName and targetName \(5,\)/);
});

test("PartyModel: W^Q, W^K, W^V, W^O and the readout are all trained parameters", () => {
  const model = new PartyModel({ numNames: 4, numStories: 4, modelDim: 8, rng: new Rng(1) });
  const names = model.namedParameters().map(([n]) => n);
  for (const n of ["attn.wQ.weight", "attn.wK.weight", "attn.wV.weight", "attn.wO.weight", "readout.weight", "name.weight", "about.weight"]) assert.ok(names.includes(n), `missing ${n} in ${names}`);
});

test("PartyTrainer: 80 Adam steps lower the loss on fresh parties; the same seed repeats exactly", () => {
  const run = () => {
    const tr = new PartyTrainer({ seed: 3, steps: 80, guests: 4, batchSize: 32, modelDim: 16 });
    const before = tr.evaluate(200).loss;
    const losses: number[] = [];
    while (!tr.done) losses.push(tr.trainStep().loss);
    return { before, losses, ev: tr.evaluate(200, { examples: 2 }) };
  };
  const a = run(), b = run();
  assert.deepEqual(a.losses, b.losses);
  assert.equal(a.ev.loss, b.ev.loss);
  // chance is ln(24) = 3.18; the plateau before attention locks on ends around here
  assert.ok(a.ev.loss < a.before - 0.3, `eval loss went from ${a.before} to ${a.ev.loss}`);
  assert.equal(a.ev.examples.length, 2);
  const ex = a.ev.examples[0];
  assert.equal(ex.guests.length, 4);
  assert.ok(Math.abs(ex.attention.reduce((x, y) => x + y) - 1) < 1e-5);
  assert.equal(ex.listenedTo, ex.attention.indexOf(Math.max(...ex.attention)));
  assert.ok(ex.correct === (ex.answer === ex.guests[ex.target].story));
  assert.ok(a.ev.mistakes.length > 0 && a.ev.mistakes.length <= 2);
  for (const m of a.ev.mistakes) assert.ok(!m.correct || m.listenedTo !== m.target);
});

test("PartyTrainer: rejects an unknown optimizer and a bad guest count, naming the option", () => {
  assert.throws(() => new PartyTrainer({ optimizer: "rmsprop" as "adam" }), /PartyTrainer: optimizer must be "adam" or "sgd", got "rmsprop"/);
  assert.throws(() => new PartyTrainer({ guests: 30 }), /PartyTrainer: guests must be an integer in \[2, 24\], got 30/);
});

test("PartyTrainer.answer: one example per party, with that party's guests, asker and target", () => {
  const tr = new PartyTrainer({ seed: 1, steps: 1, guests: 5, batchSize: 8, modelDim: 8 });
  tr.trainStep();
  const batch = generateParties(new Rng(9), 3, 5);
  const answers = tr.answer(batch);
  assert.equal(answers.length, 3);
  answers.forEach((ex, b) => {
    assert.deepEqual(ex.guests.map((g) => g.name), Array.from(batch.names.slice(b * 5, b * 5 + 5), (i) => PARTY_NAMES[i]));
    assert.equal(ex.asker, batch.asker[b]);
    assert.equal(ex.target, batch.target[b]);
    assert.ok(PARTY_STORIES.includes(ex.answer));
  });
  assert.ok(tr.model.training, "answer() restores training mode");
});
