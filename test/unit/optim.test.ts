// Optimizers against hand-written PyTorch update math, and clipGradNorm against a hand-computed norm.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Adam, AdamW } from "../../src/optim/adam.js";
import { clipGradNorm } from "../../src/optim/clip.js";
import { SGD } from "../../src/optim/sgd.js";
import { tensor, zeros } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";

const param = (values: number[]) => tensor(values, undefined, { requiresGrad: true });
const setGrad = (p: Tensor, g: number[]) => {
  p.zeroGrad();
  p.accumulateGrad(tensor(g));
};

test("clipGradNorm scales by maxNorm / (norm + 1e-6) over all parameters and returns the norm", () => {
  const a = param([0, 0]), b = param([0]), c = param([5]);
  setGrad(a, [3, 4]);
  setGrad(b, [12]); // joint norm sqrt(9 + 16 + 144) = 13; c has no gradient and is skipped
  assert.equal(clipGradNorm([a, b, c], 6.5), 13);
  const coef = 6.5 / (13 + 1e-6);
  assertClose(a.grad!, [3 * coef, 4 * coef]);
  assertClose(b.grad!, [12 * coef]);
  assert.equal(c.grad, null);
  // under the limit: unchanged
  setGrad(a, [3, 4]);
  assert.equal(clipGradNorm([a], 10), 5);
  assert.deepEqual(a.grad!.toFlatArray(), [3, 4]);
});

test("SGD with weight decay, momentum and nesterov follows torch.optim.SGD's update", () => {
  const lr = 0.1, wd = 0.05, momentum = 0.9;
  const p = param([1, -2, 0.5]);
  const opt = new SGD([p], { lr, momentum, nesterov: true, weightDecay: wd });
  // torch.optim.SGD: d = g + wd w; buf = d (first step) or momentum buf + d; d = d + momentum buf; w -= lr d
  let w = [1, -2, 0.5];
  let buf: number[] | null = null;
  for (let step = 0; step < 4; step++) {
    const g = w.map((x, i) => Math.fround(x * x * (i + 1) - 0.3)); // any gradient
    setGrad(p, g);
    opt.step();
    const d = g.map((gi, i) => gi + wd * w[i]);
    buf = buf === null ? d : buf.map((b, i) => momentum * b + d[i]);
    const bb = buf;
    w = w.map((x, i) => Math.fround(x - lr * (d[i] + momentum * bb[i])));
    assertClose(p, w, { rtol: 1e-6, atol: 1e-7 }, `step ${step + 1}`);
  }
});

test("SGD with dampening and plain momentum", () => {
  const p = param([2]);
  const opt = new SGD([p], { lr: 0.5, momentum: 0.5, dampening: 0.25 });
  setGrad(p, [1]);
  opt.step(); // buf = 1; w = 2 - 0.5
  assertClose(p, [1.5]);
  setGrad(p, [1]);
  opt.step(); // buf = 0.5 * 1 + 0.75 * 1 = 1.25; w = 1.5 - 0.625
  assertClose(p, [0.875]);
});

test("AdamW decays only through each group's weightDecay (0 means no decay), as torch param_groups", () => {
  const decayed = param([1, -2]), kept = param([1, -2]), defaulted = param([1, -2]);
  const lr = 0.1;
  const opt = new AdamW([{ params: [decayed], weightDecay: 0.5 }, { params: [kept], weightDecay: 0 }, { params: [defaulted] }], { lr });
  for (const p of [decayed, kept, defaulted]) p.accumulateGrad(zeros([2]));
  opt.step();
  // zero gradient: the Adam part is 0 / (0 + eps) = 0, so only decoupled decay moves w: w (1 - lr wd)
  assertClose(decayed, [1 * 0.95, -2 * 0.95]);
  assert.deepEqual(kept.toFlatArray(), [1, -2]);
  assertClose(defaulted, [1 * (1 - lr * 0.01), -2 * (1 - lr * 0.01)]); // AdamW's default weight decay 0.01
});

test("AdamW first step: w (1 - lr wd) - lr g / (|g| + eps); Adam adds wd w to the gradient instead", () => {
  const lr = 0.01, wd = 0.1, eps = 1e-8;
  const w0 = [0.5, -1.5, 2], g = [0.2, -3, 1e-3];
  const pw = param(w0);
  setGrad(pw, g);
  new AdamW([pw], { lr, weightDecay: wd, eps }).step();
  // step 1: mhat = g, vhat = g^2, so the Adam direction is g / (|g| + eps)
  assertClose(pw, w0.map((w, i) => w * (1 - lr * wd) - (lr * g[i]) / (Math.abs(g[i]) + eps)), { rtol: 1e-6, atol: 1e-7 });
  const pa = param(w0);
  setGrad(pa, g);
  new Adam([pa], { lr, weightDecay: wd, eps }).step();
  const ga = g.map((gi, i) => gi + wd * w0[i]);
  assertClose(pa, w0.map((w, i) => w - (lr * ga[i]) / (Math.abs(ga[i]) + eps)), { rtol: 1e-6, atol: 1e-7 });
});

test("optimizers skip parameters without a gradient and refuse non-trainable tensors", () => {
  const p = param([1, 2]);
  new AdamW([p], { lr: 0.1 }).step();
  assert.deepEqual(p.toFlatArray(), [1, 2]);
  assert.throws(() => new SGD([tensor([1])], { lr: 0.1 }), /SGD: every parameter must be a Tensor with requiresGrad: true/);
  assert.throws(() => new AdamW([], {}), /AdamW: expected a non-empty list of parameters/);
});
