// Bad input is refused with an error that names the function, what it expected, and the shapes or values it got.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { Linear } from "../../src/nn/linear.js";
import { attentionReference, scaledDotProductAttention } from "../../src/ops/attention.js";
import { add, mul, sub, where } from "../../src/ops/elementwise.js";
import { embedding } from "../../src/ops/gather.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { matmul } from "../../src/ops/matmul.js";
import { concat, expand, permute, reshape, squeeze } from "../../src/ops/movement.js";
import { sum } from "../../src/ops/reduce.js";
import { softmax } from "../../src/ops/softmax.js";
import { ones, tensor, zeros } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { rnd } from "../helpers/inputs.js";

/** Asserts fn throws an Error whose message starts with `name:` and contains every fragment. */
function refuses(fn: () => unknown, name: string, ...fragments: string[]): void {
  let message = "";
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    message = e.message;
  }
  assert.ok(message !== "", `expected ${name} to throw`);
  assert.ok(message.startsWith(`${name}: `), `message should start with "${name}: ", got: ${message}`);
  for (const f of fragments) assert.ok(message.includes(f), `message should contain "${f}", got: ${message}`);
}

test("elementwise ops name themselves and both shapes when they do not broadcast", () => {
  refuses(() => add(zeros([2, 3]), zeros([4])), "add", "(2, 3)", "(4,)", "broadcast");
  refuses(() => mul(zeros([5, 7]), zeros([7, 5])), "mul", "(5, 7)", "(7, 5)");
  refuses(() => sub(zeros([3, 1, 2]), zeros([4, 3])), "sub", "(3, 1, 2)", "(4, 3)");
  refuses(() => where(tensor([true, false, true]), zeros([2]), 0), "where", "(3,)", "(2,)");
  refuses(() => where(zeros([2]), zeros([2]), 0), "where", "bool", "float32");
});

test("matmul names both shapes when inner dimensions differ", () => {
  refuses(() => matmul(zeros([2, 3]), zeros([4, 5])), "matmul", "inner dimensions", "(2, 3)", "(4, 5)");
  refuses(() => matmul(zeros([2, 5, 3]), zeros([2, 4, 5])), "matmul", "(2, 5, 3)", "(2, 4, 5)");
  refuses(() => matmul(zeros([3]), zeros([4])), "matmul", "3", "4");
  refuses(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 4])), "matmul", "(2,)", "(3,)");
  refuses(() => matmul(zeros([]), zeros([3])), "matmul", "rank >= 1");
});

test("attention with H not divisible by G is refused, by the op and by MultiHeadAttention", () => {
  const q = zeros([1, 6, 2, 4]), kv = zeros([1, 4, 3, 4]);
  refuses(() => scaledDotProductAttention(q, kv, kv), "scaledDotProductAttention", "H=6", "G=4", "(1, 6, 2, 4)", "(1, 4, 3, 4)");
  refuses(() => attentionReference(q, kv, kv), "attentionReference", "H=6", "G=4");
  refuses(() => new MultiHeadAttention({ modelDim: 12, numHeads: 6, numKvHeads: 4 }), "MultiHeadAttention", "numHeads 6", "numKvHeads 4");
  refuses(() => new MultiHeadAttention({ modelDim: 10, numHeads: 4 }), "MultiHeadAttention", "modelDim 10", "numHeads 4");
});

test("attention refuses a float mask, a mask that does not broadcast, and mismatched q/k/v shapes", () => {
  const q = zeros([2, 3, 5, 4]), k = zeros([2, 3, 7, 4]), v = zeros([2, 3, 7, 4]);
  refuses(() => scaledDotProductAttention(q, k, v, { mask: zeros([5, 7]) }), "scaledDotProductAttention", "bool mask", "float32", "bias");
  refuses(() => scaledDotProductAttention(q, k, v, { mask: ones([5, 7], { dtype: "int32" }) }), "scaledDotProductAttention", "bool mask", "int32");
  refuses(() => attentionReference(q, k, v, { mask: zeros([5, 7]) }), "attentionReference", "bool mask", "float32");
  refuses(() => scaledDotProductAttention(q, k, v, { mask: ones([7, 5], { dtype: "bool" }) }), "scaledDotProductAttention", "(7, 5)", "(2, 3, 5, 7)");
  refuses(() => scaledDotProductAttention(q, zeros([2, 3, 7, 5]), v), "scaledDotProductAttention", "head dims", "K=(2, 3, 7, 5)");
  refuses(() => scaledDotProductAttention(q, k, zeros([2, 3, 6, 4])), "scaledDotProductAttention", "V=(2, 3, 6, 4)");
  refuses(() => scaledDotProductAttention(q, zeros([1, 3, 7, 4]), zeros([1, 3, 7, 4])), "scaledDotProductAttention", "batch", "K=(1, 3, 7, 4)");
  refuses(() => scaledDotProductAttention(zeros([3, 5, 4]), k, v), "scaledDotProductAttention", "(B, H, T, D)", "Q=(3, 5, 4)");
  refuses(() => scaledDotProductAttention(q, k, v, { bias: zeros([5, 6]) }), "scaledDotProductAttention", "bias (5, 6)");
});

test("MultiHeadAttention.forward names the expected and received input shapes", () => {
  const mha = new MultiHeadAttention({ modelDim: 6, numHeads: 2, rng: new Rng(1) });
  refuses(() => mha.forward(zeros([2, 5, 4])), "MultiHeadAttention.forward", "(B, T, 6)", "(2, 5, 4)");
  refuses(() => mha.forward(zeros([2, 5, 6]), { context: zeros([3, 4, 6]) }), "MultiHeadAttention.forward", "B=2", "(3, 4, 6)");
});

test("out-of-range token ids are refused by embedding and crossEntropy with the id, its index and the range", () => {
  const w = zeros([5, 3]);
  refuses(() => embedding(tensor([0, 9, 1], undefined, { dtype: "int32" }), w), "embedding", "token id 9", "index 1", "[0, 5)");
  refuses(() => embedding(tensor([-1], undefined, { dtype: "int32" }), w), "embedding", "token id -1", "[0, 5)");
  refuses(() => embedding(tensor([0, 1]), w), "embedding", "int32", "float32");
  const logits = zeros([3, 5]);
  refuses(() => crossEntropy(logits, tensor([0, 1, 7], undefined, { dtype: "int32" })), "crossEntropy", "target 7", "index 2", "[0, 5)");
  refuses(() => crossEntropy(logits, tensor([0, -3, 1], undefined, { dtype: "int32" })), "crossEntropy", "target -3", "index 1");
  refuses(() => crossEntropy(logits, tensor([0, 1, 2])), "crossEntropy", "int32", "float32");
  refuses(() => crossEntropy(logits, tensor([0, 1], undefined, { dtype: "int32" })), "crossEntropy", "(2,)", "(3, 5)");
});

test("movement and reduction ops name the shapes and axes they cannot use", () => {
  refuses(() => reshape(zeros([2, 3]), [4, 2]), "reshape", "(2, 3)", "6 values", "(4, 2)");
  refuses(() => reshape(zeros([2, 3]), [4, -1]), "reshape", "(2, 3)", "(4, -1)");
  refuses(() => reshape(zeros([2, 3]), [-1, -1]), "reshape", "(-1, -1)");
  refuses(() => expand(zeros([2, 3]), [2, 4]), "expand", "(2, 3)", "(2, 4)");
  refuses(() => permute(zeros([2, 3]), [0, 0]), "permute", "[0, 0]", "(2, 3)");
  refuses(() => squeeze(zeros([2, 3]), 1), "squeeze", "(2, 3)", "size 3");
  refuses(() => concat([zeros([2, 3]), zeros([2, 4])], 0), "concat", "(2, 3)", "(2, 4)");
  refuses(() => sum(zeros([2, 3]), 2), "sum", "axis 2", "rank 2");
  refuses(() => softmax(zeros([2, 3]), -3), "softmax", "axis -3", "rank 2");
});

test("Module.loadStateDict refuses a missing key, an extra key and a mis-shaped tensor, naming each", () => {
  const lin = new Linear(3, 2, { rng: new Rng(1) });
  const good = (): Map<string, Tensor> => new Map([["weight", rnd([3, 2], 1)], ["bias", rnd([2], 2)]]);
  const missing = good();
  missing.delete("bias");
  refuses(() => lin.loadStateDict(missing), "Linear.loadStateDict", "missing [bias]");
  const extra = good();
  extra.set("scale", rnd([2], 3));
  refuses(() => lin.loadStateDict(extra), "Linear.loadStateDict", "unexpected [scale]");
  const misShaped = good();
  misShaped.set("weight", rnd([2, 3], 4));
  refuses(() => lin.loadStateDict(misShaped), "Linear.loadStateDict", "weight", "(3, 2)", "(2, 3)");
  // a refused load changes nothing
  const before = lin.weight.toFlatArray();
  assert.deepEqual(lin.weight.toFlatArray(), before);
  lin.loadStateDict(good());
  assert.deepEqual(lin.weight.toFlatArray(), rnd([3, 2], 1).toFlatArray());
  const mha = new MultiHeadAttention({ modelDim: 4, numHeads: 2, rng: new Rng(2) });
  const state = mha.stateDict();
  state.delete("wK.bias");
  refuses(() => mha.loadStateDict(state), "MultiHeadAttention.loadStateDict", "missing [wK.bias]");
});

test("tensor creation refuses ragged arrays and values that do not fit the shape", () => {
  refuses(() => tensor([[1, 2], [3]]), "tensor", "ragged", "length 2");
  refuses(() => tensor([[1, 2], 3] as never), "tensor", "ragged");
  refuses(() => tensor([1, [2]] as never), "tensor", "ragged");
  refuses(() => tensor([1, 2, 3], [2, 2]), "tensor", "3 values", "(2, 2)");
  refuses(() => zeros([2, -1]), "full", "[2,-1]");
  refuses(() => zeros([2]).item(), "Tensor.item", "(2,)");
  refuses(() => zeros([2], { requiresGrad: true }).mul(2).backward(), "Tensor.backward", "(2,)");
  refuses(() => zeros([2], { dtype: "int32", requiresGrad: true }), "Tensor", "int32");
});
