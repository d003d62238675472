// Finite-difference gradient checks for crossEntropy: mean, sum, none, ignoreIndex, extra batch axes.
import { test } from "node:test";
import { crossEntropy } from "../../src/ops/loss.js";
import { tensor } from "../../src/tensor/create.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { ids, rnd } from "../helpers/inputs.js";

test("grad crossEntropy with each reduction", () => {
  const targets = ids([5], 1, 7);
  for (const reduction of ["mean", "sum", "none"] as const) {
    gradCheck(`crossEntropy ${reduction}`, (x) => crossEntropy(x, targets, { reduction }), [rnd([5, 7], 2, { scale: 2 })]);
  }
});

test("grad crossEntropy with (B, T, V) logits and ignored targets", () => {
  const targets = tensor([[1, -100, 4], [12, 0, -100]], undefined, { dtype: "int32" });
  for (const reduction of ["mean", "sum", "none"] as const) {
    gradCheck(`crossEntropy (2,3,13) ${reduction}`, (x) => crossEntropy(x, targets, { reduction }), [rnd([2, 3, 13], 3)]);
  }
  const custom = tensor([2, 0, 2], undefined, { dtype: "int32" });
  gradCheck("crossEntropy ignoreIndex 2", (x) => crossEntropy(x, custom, { ignoreIndex: 2 }), [rnd([3, 5], 4)]);
});

test("grad crossEntropy with one class and one row", () => {
  gradCheck("crossEntropy V=1", (x) => crossEntropy(x, tensor([0, 0], undefined, { dtype: "int32" })), [rnd([2, 1], 5)]);
  gradCheck("crossEntropy single row", (x) => crossEntropy(x, tensor([3], undefined, { dtype: "int32" })), [rnd([1, 5], 6)]);
});
