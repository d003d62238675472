// Finite-difference gradient checks for sum, mean and max over axes (keepdim, negative axes, ties).
import assert from "node:assert/strict";
import { test } from "node:test";
import { max, mean, sum } from "../../src/ops/reduce.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

const AXES: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 2], [2, 0, -1]];

for (const [name, f] of [["sum", sum], ["mean", mean], ["max", max]] as const) {
  test(`grad ${name} over axes of (3, 5, 7), with and without keepdim`, () => {
    AXES.forEach((axis, i) => {
      for (const keepdim of [false, true]) {
        const x = rnd([3, 5, 7], 40 + i);
        gradCheck(`${name} axis=${JSON.stringify(axis)} keepdim=${keepdim}`, (a: Tensor) => f(a, axis, { keepdim }), [x], { seed: i });
      }
    });
  });

  test(`grad ${name} over size-1 axes and a rank-1 tensor of 13`, () => {
    gradCheck(`${name} (1, 5, 1) axis 0`, (a: Tensor) => f(a, 0), [rnd([1, 5, 1], 1)]);
    gradCheck(`${name} (1, 5, 1) axis 2 keepdim`, (a: Tensor) => f(a, 2, { keepdim: true }), [rnd([1, 5, 1], 2)]);
    gradCheck(`${name} (13,)`, (a: Tensor) => f(a), [rnd([13], 3)]);
  });
}

test("max ties share the gradient equally (torch.amax)", () => {
  // torch 1.13: torch.amax(x, 1).sum().backward() on [[2, 2, 1], [0, 3, 3], [5, 5, 5]]
  const x = tensor([[2, 2, 1], [0, 3, 3], [5, 5, 5]], undefined, { requiresGrad: true });
  max(x, 1).sum().backward();
  assertClose(x.grad!, tensor([[0.5, 0.5, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]));
  const y = tensor([[1, 4], [4, 0]], undefined, { requiresGrad: true });
  max(y).backward();
  assertClose(y.grad!, tensor([[0, 0.5], [0.5, 0]]));
});

test("max forward picks the largest value per axis and keeps dims on request", () => {
  const x = tensor([[1, 9, 3], [7, -2, 7]]);
  assert.deepEqual(max(x, 1).toFlatArray(), [9, 7]);
  assert.deepEqual([...max(x, 0, { keepdim: true }).shape], [1, 3]);
  assert.deepEqual(max(x, 0, { keepdim: true }).toFlatArray(), [7, 9, 7]);
});
