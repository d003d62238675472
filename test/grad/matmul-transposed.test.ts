// matmulTransposed: finite-difference gradients and equality with matmul(x, transpose(w)).
import { test } from "node:test";
import { matmul } from "../../src/ops/matmul.js";
import { matmulTransposed } from "../../src/ops/matmul-transposed.js";
import { transpose } from "../../src/ops/movement.js";
import { randn } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { gradCheck } from "../helpers/gradcheck.js";

test("matmulTransposed: gradients of x (2, 3, 5) and w (7, 5) match finite differences", () => {
  const rng = new Rng(11);
  gradCheck("matmulTransposed", (x, w) => matmulTransposed(x, w), [randn([2, 3, 5], rng), randn([7, 5], rng)]);
  gradCheck("matmulTransposed 1-D x", (x, w) => matmulTransposed(x, w), [randn([5], rng), randn([4, 5], rng)]);
});

test("matmulTransposed equals matmul(x, transpose(w)), values and gradients", () => {
  const rng = new Rng(12);
  const x = randn([3, 4, 6], rng, { requiresGrad: true }), w = randn([9, 6], rng, { requiresGrad: true });
  const g = randn([3, 4, 9], rng);
  const a = matmulTransposed(x, w);
  a.backward(g);
  const [dx, dw] = [x.grad!, w.grad!];
  x.zeroGrad();
  w.zeroGrad();
  const b = matmul(x, transpose(w));
  b.backward(g);
  assertClose(a, b, { rtol: 1e-6, atol: 1e-6 });
  assertClose(dx, x.grad!, { rtol: 1e-6, atol: 1e-6 });
  assertClose(dw, w.grad!, { rtol: 1e-6, atol: 1e-6 });
});
