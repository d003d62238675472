// Finite-difference gradient checks for embedding (gather rows, scatter-add backward with repeated ids).
import { test } from "node:test";
import { embedding } from "../../src/ops/gather.js";
import { tensor } from "../../src/tensor/create.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { ids, rnd } from "../helpers/inputs.js";

test("grad embedding: (B, T) ids, repeated ids accumulate", () => {
  gradCheck("embedding (2,5) ids into (7,3)", (w) => embedding(ids([2, 5], 1, 7), w), [rnd([7, 3], 2)]);
  const repeated = tensor([3, 3, 0, 3, 6], [5], { dtype: "int32" });
  gradCheck("embedding repeated ids", (w) => embedding(repeated, w), [rnd([7, 13], 3)]);
  gradCheck("embedding scalar id and a (1, 1) table", (w) => embedding(tensor([0], [], { dtype: "int32" }), w), [rnd([1, 1], 4)]);
});
