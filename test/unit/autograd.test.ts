// The tape: noGrad records nothing; gradients accumulate across backward() calls until zeroed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isGradEnabled, noGrad } from "../../src/autograd/no-grad.js";
import { Linear } from "../../src/nn/linear.js";
import { add, mul } from "../../src/ops/elementwise.js";
import { SGD } from "../../src/optim/sgd.js";
import { tensor } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";

test("noGrad records nothing, nests, and restores recording even when fn throws", () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = noGrad(() => mul(x, 3).sum());
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.throws(() => y.backward(), /Tensor.backward: this tensor does not require a gradient/);
  noGrad(() => {
    noGrad(() => assert.equal(isGradEnabled(), false));
    assert.equal(isGradEnabled(), false);
  });
  assert.throws(() => noGrad(() => { throw new Error("boom"); }), /boom/);
  assert.equal(isGradEnabled(), true);
  assert.equal(mul(x, 3).requiresGrad, true);
  assert.equal(noGrad(() => 42), 42);
});

test("gradients accumulate across two backward() calls until zeroGrad", () => {
  const x = tensor([1, -2, 3], undefined, { requiresGrad: true });
  mul(x, x).sum().backward(); // 2x
  assert.deepEqual(x.grad!.toFlatArray(), [2, -4, 6]);
  mul(x, 5).sum().backward(); // + 5
  assert.deepEqual(x.grad!.toFlatArray(), [7, 1, 11]);
  // backward twice through the same graph also accumulates
  const z = mul(x, 2).sum();
  z.backward();
  z.backward();
  assert.deepEqual(x.grad!.toFlatArray(), [11, 5, 15]);
  x.zeroGrad();
  assert.equal(x.grad, null);
  mul(x, x).sum().backward();
  assert.deepEqual(x.grad!.toFlatArray(), [2, -4, 6]);
});

test("Module.zeroGrad and Optimizer.zeroGrad clear every parameter's gradient", () => {
  const lin = new Linear(3, 2, { rng: new Rng(1) });
  lin.forward(tensor([[1, 2, 3]])).sum().backward();
  assert.ok(lin.parameters().every((p) => p.grad !== null));
  lin.zeroGrad();
  assert.ok(lin.parameters().every((p) => p.grad === null));
  lin.forward(tensor([[1, 2, 3]])).sum().backward();
  new SGD(lin.parameters(), { lr: 0.1 }).zeroGrad();
  assert.ok(lin.parameters().every((p) => p.grad === null));
});

test("a diamond graph sums both paths; intermediates keep no .grad; detach cuts the graph", () => {
  const x = tensor([2, 3], undefined, { requiresGrad: true }), y = tensor([5, 7], undefined, { requiresGrad: true });
  const xy = mul(x, y);
  add(xy, x).sum().backward(); // d/dx = y + 1, d/dy = x
  assert.deepEqual(x.grad!.toFlatArray(), [6, 8]);
  assert.deepEqual(y.grad!.toFlatArray(), [2, 3]);
  assert.equal(xy.grad, null);
  const w = tensor([1, 1], undefined, { requiresGrad: true });
  mul(w, w.detach()).sum().backward(); // only one path
  assert.deepEqual(w.grad!.toFlatArray(), [1, 1]);
  // a deep chain does not overflow the stack
  let h = tensor([1], undefined, { requiresGrad: true });
  const leaf = h;
  for (let i = 0; i < 20000; i++) h = add(h, 1);
  h.sum().backward();
  assert.deepEqual(leaf.grad!.toFlatArray(), [1]);
});
