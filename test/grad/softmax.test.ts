// Finite-difference gradient checks for softmax and logSoftmax, on the last axis and others.
import { test } from "node:test";
import { logSoftmax, softmax } from "../../src/ops/softmax.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

for (const [name, f] of [["softmax", softmax], ["logSoftmax", logSoftmax]] as const) {
  test(`grad ${name} on every axis of (3, 5, 7), size-1 rows, rank 1`, () => {
    for (const axis of [-1, 0, 1, 2, -3]) {
      gradCheck(`${name} axis ${axis}`, (x: Tensor) => f(x, axis), [rnd([3, 5, 7], 10 + axis, { scale: 3 })], { seed: axis + 5 });
    }
    gradCheck(`${name} rows of length 1`, (x: Tensor) => f(x, -1), [rnd([5, 1], 1)]);
    gradCheck(`${name} (13,)`, (x: Tensor) => f(x), [rnd([13], 2)]);
  });
}
