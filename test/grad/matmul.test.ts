// Finite-difference gradient checks for matmul: 2-D, batched, broadcast batch, 1-D operands, (K, N) weights.
import { test } from "node:test";
import { matmul } from "../../src/ops/matmul.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

const CASES: [string, number[], number[]][] = [
  ["2-D (5,7)@(7,3)", [5, 7], [7, 3]],
  ["2-D with size-1 dims (1,13)@(13,1)", [1, 13], [13, 1]],
  ["batched (2,5,7)@(2,7,3)", [2, 5, 7], [2, 7, 3]],
  ["broadcast batch (3,1,5,7)@(2,7,3)", [3, 1, 5, 7], [2, 7, 3]],
  ["broadcast batch on the left (5,7)@(3,7,5)", [5, 7], [3, 7, 5]],
  ["weight (K,N) against (B,T,K): (2,5,7)@(7,3)", [2, 5, 7], [7, 3]],
  ["1-D @ 1-D (13)@(13)", [13], [13]],
  ["1-D @ 2-D (7)@(7,3)", [7], [7, 3]],
  ["2-D @ 1-D (5,7)@(7)", [5, 7], [7]],
  ["1-D @ batched (7)@(2,7,3)", [7], [2, 7, 3]],
  ["batched @ 1-D (2,5,7)@(7)", [2, 5, 7], [7]],
];

for (const [name, sa, sb] of CASES) {
  test(`grad matmul ${name}`, () => {
    gradCheck(`matmul ${name}`, matmul, [rnd(sa, 1), rnd(sb, 2)]);
  });
}

test("grad matmul of a tensor with itself transposed", () => {
  gradCheck("x @ x^T", (x) => matmul(x, x.transpose()), [rnd([5, 3], 3)]);
});
