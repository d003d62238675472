// torch.gather semantics and its scatter-add gradient.
import assert from "node:assert/strict";
import { test } from "node:test";
import { gather } from "../../src/ops/gather.js";
import { randn, tensor } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";
import { gradCheck } from "../helpers/gradcheck.js";

test("gather picks x[i][index[i][j]] along axis 1, as torch.gather", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const idx = tensor([[2, 0], [1, 1]], undefined, { dtype: "int32" });
  assert.deepEqual(gather(x, 1, idx).toFlatArray(), [3, 1, 5, 5]);
  assert.deepEqual(gather(x, 0, tensor([[1, 0, 1]], undefined, { dtype: "int32" })).toFlatArray(), [4, 2, 6]);
});

test("gather: repeated indices accumulate their gradient (finite differences)", () => {
  const rng = new Rng(3);
  const x = randn([3, 5, 2], rng);
  const idx = tensor(Array.from({ length: 3 * 7 * 2 }, () => rng.int(5)), [3, 7, 2], { dtype: "int32" });
  gradCheck("gather", (a) => gather(a, 1, idx), [x]);
});

test("gather refuses an out-of-range index, naming the function and the shape", () => {
  assert.throws(() => gather(tensor([[1, 2]]), 1, tensor([[2]], undefined, { dtype: "int32" })), /gather: index 2 at position 0 is out of range \[0, 2\) for axis 1 of \(1, 2\)/);
});
