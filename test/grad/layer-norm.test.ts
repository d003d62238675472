// Finite-difference gradient checks for layerNorm with and without weight and bias.
import { test } from "node:test";
import { layerNorm } from "../../src/ops/layer-norm.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

test("grad layerNorm with weight and bias over C = 7 and 13", () => {
  gradCheck("layerNorm (2,5,7)", (x, w, b) => layerNorm(x, w, b), [rnd([2, 5, 7], 1, { scale: 2 }), rnd([7], 2), rnd([7], 3)]);
  gradCheck("layerNorm (13,) eps 1e-3", (x, w, b) => layerNorm(x, w, b, 1e-3), [rnd([13], 4), rnd([13], 5), rnd([13], 6)]);
});

test("grad layerNorm without weight, without bias, without both", () => {
  gradCheck("layerNorm no bias", (x, w) => layerNorm(x, w, null), [rnd([5, 7], 1), rnd([7], 2)]);
  gradCheck("layerNorm no weight", (x, b) => layerNorm(x, null, b), [rnd([5, 7], 3), rnd([7], 4)]);
  gradCheck("layerNorm plain", (x) => layerNorm(x, null, null), [rnd([3, 1, 5], 5)]);
});

test("grad layerNorm with C = 1 (output is the bias, gradient zero for x)", () => {
  gradCheck("layerNorm C=1", (x, w, b) => layerNorm(x, w, b), [rnd([5, 1], 1), rnd([1], 2), rnd([1], 3)]);
});
