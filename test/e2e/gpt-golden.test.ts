// Regression golden: a tiny GPT (2 layers, 2 heads, width 32, vocab 65) trained 20 AdamW steps on
// one fixed batch. The stored losses were produced by this very code (js backend, commit "GPT model"
// on branch gpt) and are reviewed when they change; correctness comes from the gradient checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkpointFromFiles, checkpointToFiles } from "../../src/io/checkpoint.js";
import { GPT } from "../../src/nn/gpt.js";
import { AdamW } from "../../src/optim/adam.js";
import { weightDecayGroups } from "../../src/optim/schedule.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

export function trainGolden(): { model: GPT; losses: number[] } {
  const model = new GPT({ vocabSize: 65, contextLength: 16, numLayers: 2, numHeads: 2, modelDim: 32 }, { rng: new Rng(1337) });
  const data = new Rng(0);
  const B = 4, T = 16;
  const tokens = Int32Array.from({ length: B * (T + 1) }, () => data.int(65));
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    x[b * T + t] = tokens[b * (T + 1) + t];
    y[b * T + t] = tokens[b * (T + 1) + t + 1];
  }
  const ids = Tensor.fromArray(x, [B, T], "int32"), targets = Tensor.fromArray(y, [B, T], "int32");
  const opt = new AdamW(weightDecayGroups(model.namedParameters(), 0.1), { lr: 1e-2, betas: [0.9, 0.95] });
  const losses: number[] = [];
  for (let step = 0; step < 20; step++) {
    opt.zeroGrad();
    const loss = model.loss(ids, targets);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return { model, losses };
}

// generated once: node -e 'import("./build/test/e2e/gpt-golden.test.js").then(m => console.log(m.trainGolden().losses))'
const GOLDEN = [
  4.184981, 3.88709, 3.791409, 3.520332, 3.303189, 3.104273, 2.868566, 2.662745, 2.446493, 2.234219,
  2.034014, 1.839623, 1.647068, 1.464552, 1.290402, 1.12777, 0.9792346, 0.8418654, 0.7144411, 0.6045927,
];

test("tiny GPT overfits one batch in 20 AdamW steps, and its losses match the stored golden curve (rtol 1e-3)", () => {
  const { losses } = trainGolden();
  assert.ok(losses[19] < losses[0] / 2, `final loss ${losses[19]} should be below half the first ${losses[0]}`);
  assert.equal(losses.length, GOLDEN.length);
  losses.forEach((l, i) => assert.ok(Math.abs(l - GOLDEN[i]) <= 1e-3 * Math.abs(GOLDEN[i]), `step ${i}: loss ${l}, golden ${GOLDEN[i]}`));
});

// generated once with this code, as GOLDEN above (the model after the 20 steps, greedy from token 7)
const GOLDEN_IDS = [17, 17, 17, 17, 35, 18, 21, 53, 0, 64, 24, 10, 23, 43, 17, 38];

test("trained tiny GPT -> checkpoint bytes -> fresh GPT: greedy decoding yields the stored token ids", () => {
  const { model } = trainGolden();
  const files = checkpointToFiles({ config: { ...model.config }, model: model.stateDict(), optimizer: new Map(), state: { step: 20 } });
  const ckpt = checkpointFromFiles(files);
  const loaded = new GPT(ckpt.config, { rng: new Rng(99) });
  loaded.loadStateDict(ckpt.model);
  const ids = [...loaded.generate([7], { maxNewTokens: 16, temperature: 0 })];
  assert.deepEqual(ids, [...model.generate([7], { maxNewTokens: 16, temperature: 0 })]);
  assert.deepEqual(ids, GOLDEN_IDS);
});
