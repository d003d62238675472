// Size-0 and size-1 dimensions through reductions, matmul, softmax, layerNorm, crossEntropy and attention.
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionReference, scaledDotProductAttention } from "../../src/ops/attention.js";
import { add, mul } from "../../src/ops/elementwise.js";
import { layerNorm } from "../../src/ops/layer-norm.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { matmul } from "../../src/ops/matmul.js";
import { concat, reshape, slice } from "../../src/ops/movement.js";
import { max, mean, sum } from "../../src/ops/reduce.js";
import { logSoftmax, softmax } from "../../src/ops/softmax.js";
import { tensor, zeros } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";
import { rnd } from "../helpers/inputs.js";

const shape = (t: Tensor) => [...t.shape];

test("sum over an empty axis is 0; mean over it is NaN (as torch); max over it is refused", () => {
  const x = zeros([0, 3], { requiresGrad: true });
  assert.deepEqual(sum(x, 0).toFlatArray(), [0, 0, 0]);
  assert.deepEqual(shape(sum(x, 1)), [0]);
  assert.equal(sum(x).item(), 0);
  assert.ok(mean(x, 0).toFlatArray().every(Number.isNaN));
  assert.throws(() => max(x, 0), /max: cannot take the max over an empty axis 0 of shape \(0, 3\)/);
  sum(x).backward();
  assert.deepEqual(shape(x.grad!), [0, 3]);
});

test("matmul with K=0 gives zeros; with M=0 or N=0 an empty result; gradients keep their shapes", () => {
  const a = zeros([5, 0], { requiresGrad: true }), b = zeros([0, 3], { requiresGrad: true });
  const y = matmul(a, b);
  assert.deepEqual(shape(y), [5, 3]);
  assert.deepEqual(y.toFlatArray(), Array(15).fill(0));
  y.sum().backward();
  assert.deepEqual(shape(a.grad!), [5, 0]);
  assert.deepEqual(shape(b.grad!), [0, 3]);
  assert.deepEqual(shape(matmul(zeros([2, 0, 7]), rnd([7, 3], 1))), [2, 0, 3]);
  assert.deepEqual(shape(matmul(rnd([5, 7], 1), zeros([7, 0]))), [5, 0]);
});

test("elementwise, broadcasting and movement ops accept size-0 axes", () => {
  const x = zeros([0, 3], { requiresGrad: true }), w = rnd([3], 1, { requiresGrad: true });
  const y = mul(add(x, w), 2);
  assert.deepEqual(shape(y), [0, 3]);
  y.sum().backward();
  assert.deepEqual(w.grad!.toFlatArray(), [0, 0, 0]); // summed over no rows
  assert.deepEqual(shape(reshape(x, [3, 0])), [3, 0]);
  assert.deepEqual(shape(slice(rnd([5, 3], 2), 0, 2, 2)), [0, 3]);
  assertClose(concat([x, tensor([[1, 2, 3]])], 0), tensor([[1, 2, 3]]));
});

test("softmax, logSoftmax, layerNorm on zero rows; crossEntropy mean over zero targets is NaN (as torch)", () => {
  assert.deepEqual(shape(softmax(zeros([0, 5]))), [0, 5]);
  assert.deepEqual(shape(logSoftmax(zeros([0, 5]))), [0, 5]);
  assert.deepEqual(shape(layerNorm(zeros([0, 5]), null, null)), [0, 5]);
  const logits = zeros([0, 5]), targets = tensor([], [0], { dtype: "int32" });
  assert.ok(Number.isNaN(crossEntropy(logits, targets).item()));
  assert.equal(crossEntropy(logits, targets, { reduction: "sum" }).item(), 0);
});

for (const [impl, attn] of [["fused", scaledDotProductAttention], ["reference", attentionReference]] as const) {
  test(`attention (${impl}) with T=0 gives (B, H, 0, Dv); with S=0 every row is empty and outputs zeros`, () => {
    const q0 = zeros([2, 3, 0, 4], { requiresGrad: true }), k = rnd([2, 3, 5, 4], 1, { requiresGrad: true }), v = rnd([2, 3, 5, 7], 2, { requiresGrad: true });
    const out = attn(q0, k, v, { isCausal: true }) as Tensor;
    assert.deepEqual(shape(out), [2, 3, 0, 7]);
    out.sum().backward();
    assert.ok(k.grad!.toFlatArray().every((g) => g === 0));
    const q = rnd([1, 2, 3, 4], 3, { requiresGrad: true });
    const outS0 = attn(q, zeros([1, 2, 0, 4]), zeros([1, 2, 0, 5])) as Tensor;
    assert.deepEqual(shape(outS0), [1, 2, 3, 5]);
    assert.deepEqual(outS0.toFlatArray(), Array(30).fill(0));
    outS0.sum().backward();
    assert.deepEqual(q.grad!.toFlatArray(), Array(24).fill(0));
  });

  test(`attention (${impl}) with S=1: the output is the single value row`, () => {
    const v = rnd([1, 2, 1, 3], 4);
    const out = attn(rnd([1, 2, 5, 3], 5), rnd([1, 2, 1, 3], 6), v) as Tensor;
    for (let h = 0; h < 2; h++) for (let t = 0; t < 5; t++) for (let d = 0; d < 3; d++) {
      assert.equal(out.values[(h * 5 + t) * 3 + d], v.values[h * 3 + d]);
    }
  });
}

test("size-1 axes: softmax over one entry is 1 with zero gradient, layerNorm over C=1 outputs the bias", () => {
  const x = rnd([5, 1], 1, { requiresGrad: true });
  const y = softmax(x);
  assert.deepEqual(y.toFlatArray(), Array(5).fill(1));
  mul(y, rnd([5, 1], 2)).sum().backward();
  assert.deepEqual(x.grad!.toFlatArray(), Array(5).fill(0));
  const b = tensor([0.25]);
  assertClose(layerNorm(rnd([4, 1], 3), tensor([3]), b), tensor([[0.25], [0.25], [0.25], [0.25]]));
  assertClose(max(tensor([[1], [2]]), 1), tensor([1, 2]));
  assertClose(sum(tensor([[7]]), [0, 1]), tensor(7));
});
