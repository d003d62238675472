// Tensor creation (nested arrays, typed arrays, shapes), printing, and dtype promotion.
import assert from "node:assert/strict";
import { test } from "node:test";
import { add, div, eq, gt, lt, mul, sub } from "../../src/ops/elementwise.js";
import { matmul } from "../../src/ops/matmul.js";
import { sum } from "../../src/ops/reduce.js";
import { arange, full, ones, tensor, zeros } from "../../src/tensor/create.js";

test("tensor() from nested arrays infers the shape and dtype", () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual([...t.shape], [2, 3]);
  assert.equal(t.dtype, "float32");
  assert.deepEqual(t.toFlatArray(), [1, 2, 3, 4, 5, 6]);
  const b = tensor([[true, false]]);
  assert.equal(b.dtype, "bool");
  assert.deepEqual(b.toFlatArray(), [1, 0]);
  const s = tensor(2.5);
  assert.deepEqual([...s.shape], []);
  assert.equal(s.item(), 2.5);
  assert.deepEqual([...tensor([]).shape], [0]);
  assert.deepEqual([...tensor([[[1], [2]]]).shape], [1, 2, 1]);
  // an explicit shape reshapes a flat list; an explicit dtype converts
  assert.deepEqual([...tensor([1, 2, 3, 4, 5, 6], [3, 2]).shape], [3, 2]);
  assert.deepEqual(tensor([1.7, -2.2], undefined, { dtype: "int32" }).toFlatArray(), [1, -2]);
});

test("tensor() from typed arrays keeps their dtype and copies the values", () => {
  const f64 = new Float64Array([1, 2, 3]);
  const t = tensor(f64);
  assert.equal(t.dtype, "float64");
  f64[0] = 99;
  assert.equal(t.values[0], 1);
  assert.equal(tensor(new Int32Array([1, 2])).dtype, "int32");
  assert.equal(tensor(new Uint8Array([1, 0])).dtype, "bool");
  assert.equal(tensor(new Float32Array(6), [2, 3]).dtype, "float32");
  // float32 rounds as Math.fround does
  assert.equal(tensor([0.1]).values[0], Math.fround(0.1));
});

test("ragged nested arrays are refused", () => {
  assert.throws(() => tensor([[1, 2], [3]]), /^Error: tensor: ragged nested array: expected length 2 at depth 1/);
  assert.throws(() => tensor([[1], [2, 3]]), /tensor: ragged/);
  assert.throws(() => tensor([[[1, 2]], [[3]]]), /tensor: ragged nested array: expected length 2 at depth 2/);
});

test("toString of a small tensor: values, shape, dtype, truncation and special values", () => {
  assert.equal(tensor([[1, 2.5], [3, -4]]).toString(), "tensor([[1, 2.5],\n        [3, -4]], shape=[2, 2], dtype=float32)");
  assert.equal(arange(10).toString(), "tensor([0, 1, 2, ..., 7, 8, 9], shape=[10], dtype=int32)");
  assert.equal(tensor([true, false]).toString(), "tensor([true, false], shape=[2], dtype=bool)");
  assert.equal(tensor([NaN, -Infinity, 1e-5], undefined, { requiresGrad: true }).toString(), "tensor([nan, -inf, 1.0000e-5], shape=[3], dtype=float32, requiresGrad)");
  assert.equal(tensor(3).toString(), "tensor(3, shape=[], dtype=float32)");
  assert.equal(String(zeros([2, 0])), "tensor([[],\n        []], shape=[2, 0], dtype=float32)");
});

test("constructors: zeros, ones, full, arange", () => {
  assert.deepEqual(zeros([2, 2]).toFlatArray(), [0, 0, 0, 0]);
  assert.deepEqual(ones([3], { dtype: "int32" }).toFlatArray(), [1, 1, 1]);
  assert.deepEqual(full([2], 7.5).toFlatArray(), [7.5, 7.5]);
  assert.deepEqual(arange(2, 8, 2).toFlatArray(), [2, 4, 6]);
  assert.equal(arange(0, 1, 0.25).dtype, "float32");
  assert.deepEqual(arange(0, 1, 0.25).toFlatArray(), [0, 0.25, 0.5, 0.75]);
});

test("dtype promotion: int32 with float32 is float32, division is float, comparisons are bool", () => {
  const i = tensor([1, 2, 3], undefined, { dtype: "int32" }), f = tensor([0.5, 0.5, 0.5]);
  assert.equal(add(i, f).dtype, "float32");
  assert.deepEqual(add(i, f).toFlatArray(), [1.5, 2.5, 3.5]);
  assert.equal(mul(f, i).dtype, "float32");
  assert.equal(add(i, i).dtype, "int32");
  assert.equal(mul(i, 2).dtype, "int32");
  assert.equal(add(i, 0.5).dtype, "float32"); // a fractional number makes it float (as torch)
  assert.equal(sub(f, 1).dtype, "float32"); // a number never widens a float tensor
  assert.equal(div(i, tensor([2, 2, 2], undefined, { dtype: "int32" })).dtype, "float32"); // true division
  assert.deepEqual(div(i, 2).toFlatArray(), [0.5, 1, 1.5]);
  assert.equal(add(f, tensor([1, 1, 1], undefined, { dtype: "float64" })).dtype, "float64");
  for (const cmp of [eq, lt, gt]) assert.equal(cmp(i, f).dtype, "bool");
  assert.deepEqual(gt(i, 1.5).toFlatArray(), [0, 1, 1]);
  assert.deepEqual(eq(f, 0.5).toFlatArray(), [1, 1, 1]);
  assert.equal(matmul(tensor([[1, 2]], undefined, { dtype: "int32" }), tensor([[1], [1]])).dtype, "float32");
  assert.equal(sum(tensor([true, true, false])).dtype, "int32");
  assert.equal(sum(tensor([true, true, false])).item(), 2);
});
