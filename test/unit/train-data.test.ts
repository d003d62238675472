// Tokenizers, batches and the Trainer's guard, split and state.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BatchSampler, splitTokens } from "../../src/data/batches.js";
import { CharTokenizer, Gpt2Tokenizer, tokenizerFromJSON } from "../../src/data/tokenizer.js";
import { GPT } from "../../src/nn/gpt.js";
import { Trainer, TRAIN_DEFAULTS } from "../../src/train/trainer.js";
import { Rng } from "../../src/util/random.js";

test("CharTokenizer: sorted code points, round trip, JSON round trip, unknown characters named", async () => {
  const tok = CharTokenizer.fromText("hello, wörld 🐳");
  assert.deepEqual(tok.chars, [" ", ",", "d", "e", "h", "l", "o", "r", "w", "ö", "🐳"]);
  assert.equal(tok.decode(tok.encode("world 🐳")), "world 🐳");
  const again = await tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(again.encode("hello"), tok.encode("hello"));
  assert.throws(() => tok.encode("hi!"), /CharTokenizer.encode: character "i" \(U\+0069\) is not in the 11-character vocabulary/);
});

test("Gpt2Tokenizer: GPT-2 byte-level BPE ids, offline", async () => {
  const tok = await Gpt2Tokenizer.load();
  // GPT-2 (tiktoken r50k_base): "Hello" = 15496, " world" = 995
  assert.deepEqual(tok.encode("Hello world"), [15496, 995]);
  assert.equal(tok.decode(tok.encode("Call me Ishmael.")), "Call me Ishmael.");
  assert.equal(tok.vocabSize, 50257);
});

test("splitTokens and BatchSampler: y is x shifted by one; the same seed draws the same windows", () => {
  const tokens = Int32Array.from({ length: 100 }, (_, i) => i);
  const { train, val } = splitTokens(tokens, 0.1);
  assert.deepEqual([train.length, val[0]], [90, 90]);
  const a = new BatchSampler(train, 3, 8, 5), b = new BatchSampler(train, 3, 8, 5);
  const { x, y } = a.next();
  assert.deepEqual([...x.shape], [3, 8]);
  const xv = x.toFlatArray(), yv = y.toFlatArray();
  xv.forEach((v, i) => assert.equal(yv[i], v + 1));
  assert.deepEqual(b.next().x.toFlatArray(), xv);
  assert.ok(Math.max(...yv) < 90, "windows stay inside the split");
});

test("Trainer: a NaN parameter skips the step, names the tensor, and leaves the other weights alone", () => {
  const model = new GPT({ vocabSize: 7, contextLength: 8, numLayers: 1, numHeads: 1, modelDim: 8 }, { rng: new Rng(0) });
  const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 3) % 7);
  const trainer = new Trainer(model, splitTokens(tokens, 0.2), { ...TRAIN_DEFAULTS, steps: 5, batchSize: 2, warmupSteps: 0 });
  const ok = trainer.trainStep();
  assert.equal(ok.skipped, null);
  assert.ok(Number.isFinite(ok.loss) && ok.gradNorm > 0);
  const p = new Map(model.namedParameters());
  p.get("blocks.0.mlp.fc.weight")!.values[3] = NaN;
  const before = p.get("lnFinal.weight")!.values.slice();
  const bad = trainer.trainStep();
  assert.equal(bad.skipped, "parameter blocks.0.mlp.fc.weight");
  assert.equal(bad.step, 2);
  assert.deepEqual(p.get("lnFinal.weight")!.values, before);
});

test("Trainer: state() then restore() on a fresh trainer replays the same batches", () => {
  const make = () => {
    const model = new GPT({ vocabSize: 7, contextLength: 8, numLayers: 1, numHeads: 1, modelDim: 8 }, { rng: new Rng(0) });
    return new Trainer(model, splitTokens(Int32Array.from({ length: 300 }, (_, i) => (i * i) % 7), 0.2), { ...TRAIN_DEFAULTS, steps: 4, batchSize: 2 });
  };
  const a = make();
  a.trainStep();
  const s = JSON.parse(JSON.stringify(a.state()));
  const b = make();
  b.restore(s);
  assert.equal(b.step, 1);
  assert.deepEqual(b.state(), a.state());
  assert.throws(() => b.restore({} as never), /Trainer.restore: expected \{step, dataRng, dropoutRng\}/);
});

test("Trainer: 2 accumulated micro-batches of 2 equal one batch of 4 (the same windows)", () => {
  const run = (batchSize: number, gradAccum: number) => {
    const model = new GPT({ vocabSize: 7, contextLength: 8, numLayers: 1, numHeads: 2, modelDim: 8 }, { rng: new Rng(4) });
    const trainer = new Trainer(model, splitTokens(Int32Array.from({ length: 300 }, (_, i) => (i * i + 3 * i) % 7), 0.2), { ...TRAIN_DEFAULTS, steps: 3, batchSize, gradAccum, warmupSteps: 0 });
    return [trainer.trainStep(), trainer.trainStep()];
  };
  const [a1, a2] = run(4, 1), [b1, b2] = run(2, 2);
  assert.ok(Math.abs(a1.loss - b1.loss) < 1e-6 && Math.abs(a1.gradNorm - b1.gradNorm) < 1e-5, `${a1.loss} ${b1.loss} ${a1.gradNorm} ${b1.gradNorm}`);
  assert.ok(Math.abs(a2.loss - b2.loss) < 1e-4, `${a2.loss} vs ${b2.loss}`);
  assert.equal(a1.tokens, b1.tokens);
});
