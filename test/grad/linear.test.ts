// linear(x, W, b): the fused bias-seeded matmul against its composite and by finite differences.
import { test } from "node:test";
import { add } from "../../src/ops/elementwise.js";
import { linear } from "../../src/ops/linear.js";
import { matmul } from "../../src/ops/matmul.js";
import { randn } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { TOL } from "../helpers/tolerance.js";

test("linear equals add(matmul(x, W), b), forward and every gradient", () => {
  const rng = new Rng(11);
  const mk = (shape: number[]) => randn(shape, rng, { requiresGrad: true });
  const [x1, w1, b1] = [mk([3, 5, 7]), mk([7, 13]), mk([13])];
  const [x2, w2, b2] = [x1, w1, b1].map((t) => t.detach().clone()).map((t) => { t.requiresGrad = true; return t; });
  const y1 = linear(x1, w1, b1), y2 = add(matmul(x2, w2), b2);
  assertClose(y1, y2, TOL.reduction, "y");
  const g = randn(y1.shape, rng);
  y1.backward(g);
  y2.backward(g);
  assertClose(x1.grad!, x2.grad!, TOL.reduction, "dx");
  assertClose(w1.grad!, w2.grad!, TOL.reduction, "dW");
  assertClose(b1.grad!, b2.grad!, TOL.reduction, "db");
});

test("linear: finite-difference gradients for x, W and b (odd sizes, a batch of rows)", () => {
  const rng = new Rng(12);
  gradCheck("linear", (x, w, b) => linear(x, w, b), [randn([2, 5, 7], rng), randn([7, 9], rng), randn([9], rng)]);
  gradCheck("linear without bias", (x, w) => linear(x, w, null), [randn([5, 7], rng), randn([7, 3], rng)]);
});
