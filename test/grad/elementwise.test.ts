// Finite-difference gradient checks for the elementwise ops, with broadcasting, scalars and odd sizes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { abs, add, asFloat, broadcastTo, div, exp, gelu, log, maximum, minimum, mul, neg, pow, relu, sigmoid, silu, sqrt, sub, tanh, unbroadcast, where } from "../../src/ops/elementwise.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { boolMask, rnd, uniform } from "../helpers/inputs.js";

// pairs of broadcastable shapes: equal, trailing broadcast, size-1 on both sides, rank-0, lengths not divisible by 4
const PAIRS: [number[], number[]][] = [
  [[5, 7], [5, 7]],
  [[3, 5, 7], [7]],
  [[3, 1, 7], [1, 5, 1]],
  [[13], []],
  [[1], [2, 13]],
];

const binaries: [string, (a: Tensor, b: Tensor) => Tensor, boolean][] = [
  ["add", add, false],
  ["sub", sub, false],
  ["mul", mul, false],
  ["div", div, true],
  ["pow", pow, true],
  ["maximum", maximum, false],
  ["minimum", minimum, false],
];

for (const [name, f, positive] of binaries) {
  test(`grad ${name}: broadcasting shapes, both operands`, () => {
    PAIRS.forEach(([sa, sb], i) => {
      // positive operands for div (denominator) and pow (base, so log(a) exists)
      const a = positive ? uniform(sa, 10 + i, 0.5, 2) : rnd(sa, 10 + i);
      const b = positive ? uniform(sb, 20 + i, 0.5, 2) : rnd(sb, 20 + i);
      gradCheck(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, f, [a, b], { seed: i });
    });
  });
}

test("grad binary ops with a number operand on either side", () => {
  const x = uniform([5, 3], 1, 0.5, 2);
  gradCheck("add(x, 2.5)", (a) => add(a, 2.5), [x]);
  gradCheck("sub(1, x)", (a) => sub(1, a), [x]);
  gradCheck("mul(x, -3)", (a) => mul(a, -3), [x]);
  gradCheck("div(2, x)", (a) => div(2, a), [x]);
  gradCheck("pow(x, 3)", (a) => pow(a, 3), [x]);
  gradCheck("pow(x, 0.5)", (a) => pow(a, 0.5), [x]);
  gradCheck("pow(2, x)", (a) => pow(2, a), [x]);
  gradCheck("maximum(x, 1)", (a) => maximum(a, 1.05), [x]);
  gradCheck("minimum(1, x)", (a) => minimum(1.05, a), [x]);
});

test("grad the same tensor used twice (x * x, x - x) sums both paths", () => {
  const x = rnd([7], 3);
  gradCheck("mul(x, x)", (a) => mul(a, a), [x]);
  gradCheck("x / (x * x + 1)", (a) => div(a, add(mul(a, a), 1)), [x]);
});

const unaries: [string, (a: Tensor) => Tensor, "any" | "positive"][] = [
  ["neg", neg, "any"],
  ["exp", exp, "any"],
  ["log", log, "positive"],
  ["sqrt", sqrt, "positive"],
  ["tanh", tanh, "any"],
  ["abs", abs, "any"],
  ["sigmoid", sigmoid, "any"],
  ["relu", relu, "any"],
  ["gelu", gelu, "any"],
  ["silu", silu, "any"],
];

for (const [name, f, domain] of unaries) {
  test(`grad ${name} on (5, 7), (1,) and (13,)`, () => {
    for (const [i, shape] of [[5, 7], [1], [13]].entries()) {
      const x = domain === "positive" ? uniform(shape, 30 + i, 0.3, 3) : rnd(shape, 30 + i, { scale: 2 });
      gradCheck(`${name} ${JSON.stringify(shape)}`, f, [x], { seed: 5 + i });
    }
  });
}

test("grad where: both branches, broadcast condition and branches", () => {
  const cond = boolMask([5, 1, 7], 4);
  gradCheck("where (5,1,7) cond, (3,7) a, (5,3,1) b", (a, b) => where(cond, a, b), [rnd([3, 7], 1), rnd([5, 3, 1], 2)]);
  gradCheck("where with a number branch", (a) => where(cond, a, 0), [rnd([5, 3, 7], 3)]);
  gradCheck("where with a number first branch", (b) => where(cond, -1, b), [rnd([7], 4)]);
});

test("grad a composite: gelu(x * w + b) / sqrt(sum of squares) style expression", () => {
  gradCheck("composite", (x, w, b) => tanh(div(gelu(add(mul(x, w), b)), add(exp(neg(abs(w))), 1))), [rnd([5, 7], 1), rnd([7], 2), rnd([5, 1], 3)]);
});

test("maximum and minimum split the gradient in half on ties (torch.maximum / torch.minimum)", () => {
  // torch 2.x derivatives.yaml: maximum: self: where(self == other, grad / 2, grad).masked_fill_(self < other, 0)
  const a = tensor([1, 2, 3], undefined, { requiresGrad: true }), b = tensor([1, 0, 5], undefined, { requiresGrad: true });
  maximum(a, b).sum().backward();
  assert.deepEqual(a.grad!.toFlatArray(), [0.5, 1, 0]);
  assert.deepEqual(b.grad!.toFlatArray(), [0.5, 0, 1]);
  a.zeroGrad();
  b.zeroGrad();
  minimum(a, b).sum().backward();
  assert.deepEqual(a.grad!.toFlatArray(), [0.5, 0, 1]);
  assert.deepEqual(b.grad!.toFlatArray(), [0.5, 1, 0]);
  // against a broadcast scalar tensor: the scalar collects the half from each tie
  const x = tensor([0, -1, 0, 2], undefined, { requiresGrad: true }), zero = tensor(0, undefined, { requiresGrad: true });
  maximum(x, zero).sum().backward();
  assert.deepEqual(x.grad!.toFlatArray(), [0.5, 0, 0.5, 1]);
  assert.deepEqual(zero.grad!.toFlatArray(), [2]);
});

test("pow gradients at a zero base are 0 where torch's are (exponent 0; d/d exponent with base 0)", () => {
  // torch: pow_backward_self is 0 where exponent == 0; pow_backward_exponent is 0 where base == 0 and exponent >= 0
  const x = tensor([0, 1, 2], undefined, { requiresGrad: true });
  pow(x, 0).sum().backward();
  assert.deepEqual(x.grad!.toFlatArray(), [0, 0, 0]);
  const base = tensor([0, 0, 2], undefined, { requiresGrad: true }), e = tensor([2, 0.5, 3], undefined, { requiresGrad: true });
  pow(base, e).sum().backward();
  assert.deepEqual(e.grad!.toFlatArray().slice(0, 2), [0, 0]);
  assert.ok(Math.abs(e.grad!.values[2] - 8 * Math.log(2)) < 1e-5);
  assert.deepEqual(base.grad!.toFlatArray().slice(0, 2), [0, Infinity]); // 2 * 0^1 and 0.5 * 0^-0.5, as torch
});

test("grad of the exported helpers broadcastTo, unbroadcast and asFloat", () => {
  gradCheck("broadcastTo (5,1)->(3,5,7)", (x) => broadcastTo("test", x, [3, 5, 7]), [rnd([5, 1], 1)]);
  gradCheck("unbroadcast (3,5,7)->(5,1)", (x) => unbroadcast(x, [5, 1]), [rnd([3, 5, 7], 2)]);
  gradCheck("unbroadcast (3,5,7)->(7,)", (x) => unbroadcast(x, [7]), [rnd([3, 5, 7], 3)]);
  gradCheck("asFloat of a float tensor", (x) => mul(asFloat(x), 2), [rnd([5], 4)]);
});

test("activations at +-1e4 and at float32 overflow stay finite with finite gradients", () => {
  const x = tensor([1e4, -1e4, 88, -88, 0], undefined, { requiresGrad: true });
  for (const [name, f] of [["gelu", gelu], ["silu", silu], ["sigmoid", sigmoid], ["tanh", tanh], ["relu", relu], ["abs", abs]] as const) {
    x.zeroGrad();
    const y = f(x);
    y.sum().backward();
    for (const v of [...y.toFlatArray(), ...x.grad!.toFlatArray()]) assert.ok(Number.isFinite(v), `${name}: ${y.toFlatArray()} / ${x.grad!.toFlatArray()}`);
  }
  // exact limits: gelu and silu are the identity far right and 0 far left; sigmoid saturates to 1 and 0
  assertClose(gelu(x).toFlatArray().slice(0, 2), [1e4, 0], { rtol: 0, atol: 0 });
  assertClose(silu(x).toFlatArray().slice(0, 2), [1e4, 0], { rtol: 0, atol: 0 });
  assertClose(sigmoid(x).toFlatArray().slice(0, 2), [1, 0], { rtol: 0, atol: 0 });
});
