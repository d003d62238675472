// NaN propagation where PyTorch propagates it (tfjs softmax_test "Propagates NaNs").
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionReference, scaledDotProductAttention } from "../../src/ops/attention.js";
import { abs, add, exp, gelu, maximum, minimum, mul, relu, sigmoid, silu, tanh } from "../../src/ops/elementwise.js";
import { layerNorm } from "../../src/ops/layer-norm.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { matmul } from "../../src/ops/matmul.js";
import { max, sum } from "../../src/ops/reduce.js";
import { logSoftmax, softmax } from "../../src/ops/softmax.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { rnd } from "../helpers/inputs.js";

const isNaNs = (t: Tensor) => t.toFlatArray().map(Number.isNaN);

test("unary ops propagate NaN (torch.relu(nan) is nan too)", () => {
  const x = tensor([NaN, 1, -1]);
  for (const [name, f] of [["relu", relu], ["gelu", gelu], ["silu", silu], ["sigmoid", sigmoid], ["tanh", tanh], ["exp", exp], ["abs", abs]] as const) {
    assert.deepEqual(isNaNs(f(x)), [true, false, false], name);
  }
});

test("binary ops, maximum and minimum propagate NaN from either side (torch.maximum)", () => {
  const a = tensor([NaN, 1, 2]), b = tensor([0, NaN, 1]);
  for (const [name, f] of [["add", add], ["mul", mul], ["maximum", maximum], ["minimum", minimum]] as const) {
    assert.deepEqual(isNaNs(f(a, b)), [true, true, false], name);
  }
});

test("sum and max propagate NaN along the reduced axis only", () => {
  const x = tensor([[1, NaN, 3], [4, 5, 6]]);
  assert.deepEqual(isNaNs(sum(x, 1)), [true, false]);
  assert.deepEqual(isNaNs(max(x, 1)), [true, false]);
  assert.deepEqual(isNaNs(max(x, 0)), [false, true, false]);
});

test("softmax, logSoftmax, layerNorm and crossEntropy turn one NaN into a NaN row, other rows untouched", () => {
  const x = tensor([[1, NaN, 3], [4, 5, 6]]);
  for (const [name, y] of [["softmax", softmax(x)], ["logSoftmax", logSoftmax(x)], ["layerNorm", layerNorm(x, null, null)]] as const) {
    assert.deepEqual(isNaNs(y), [true, true, true, false, false, false], name);
  }
  assert.deepEqual(isNaNs(crossEntropy(x, tensor([0, 1], undefined, { dtype: "int32" }), { reduction: "none" })), [true, false]);
});

test("matmul propagates NaN to the rows and columns it touches", () => {
  const a = tensor([[NaN, 0], [1, 2]]);
  assert.deepEqual(isNaNs(matmul(a, tensor([[1, 2], [3, 4]]))), [true, true, false, false]);
});

for (const [impl, attn] of [["fused", scaledDotProductAttention], ["reference", attentionReference]] as const) {
  test(`attention (${impl}) propagates a NaN query to its own row, even when every score of that row is NaN`, () => {
    const q = rnd([1, 1, 3, 2], 1).values.slice();
    q[0] = NaN; // row 0: every score NaN
    const k = rnd([1, 1, 4, 2], 2), v = rnd([1, 1, 4, 2], 3);
    const out = attn(tensor(Array.from(q), [1, 1, 3, 2]), k, v) as Tensor;
    assert.deepEqual(isNaNs(out), [true, true, false, false, false, false]);
    // a NaN key poisons every row that may attend to it, and none that may not (causal)
    const kv = k.values.slice();
    kv[6] = NaN; // key 3
    const causal = attn(rnd([1, 1, 3, 2], 4), tensor(Array.from(kv), [1, 1, 4, 2]), v, { isCausal: true }) as Tensor;
    // T=3, S=4: row t sees keys s <= t + 1, so only row 2 sees key 3
    assert.deepEqual(isNaNs(causal), [false, false, false, false, true, true]);
  });
}
