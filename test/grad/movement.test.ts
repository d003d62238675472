// Finite-difference gradient checks for reshape, permute, transpose, slice, concat, expand, squeeze, unsqueeze.
import { test } from "node:test";
import { mul } from "../../src/ops/elementwise.js";
import { concat, expand, permute, reshape, slice, squeeze, transpose, unsqueeze } from "../../src/ops/movement.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

test("grad reshape: explicit, inferred -1, to and from size-1 axes", () => {
  gradCheck("reshape (3,5,7)->(15,7)", (x) => reshape(x, [15, 7]), [rnd([3, 5, 7], 1)]);
  gradCheck("reshape (3,5,7)->(7,-1)", (x) => reshape(x, [7, -1]), [rnd([3, 5, 7], 2)]);
  gradCheck("reshape (13,)->(1,13,1)", (x) => reshape(x, [1, 13, 1]), [rnd([13], 3)]);
  // reshape shares storage: a later op must not see a gradient through the alias twice
  gradCheck("reshape then multiply by the original", (x) => mul(reshape(reshape(x, [5, 3]), [15]), x), [rnd([15], 4)]);
});

test("grad permute and transpose", () => {
  gradCheck("permute (3,5,7) [2,0,1]", (x) => permute(x, [2, 0, 1]), [rnd([3, 5, 7], 1)]);
  gradCheck("permute with negative axes", (x) => permute(x, [-1, 1, 0]), [rnd([3, 1, 7], 2)]);
  gradCheck("transpose default (last two)", (x) => transpose(x), [rnd([2, 5, 7], 3)]);
  gradCheck("transpose 0, 2", (x) => transpose(x, 0, 2), [rnd([3, 5, 7], 4)]);
});

test("grad slice: middle, negative indices, clamped end, a length-1 slice", () => {
  gradCheck("slice axis 1 [1, 4)", (x) => slice(x, 1, 1, 4), [rnd([3, 5, 7], 1)]);
  gradCheck("slice axis -1 [-3, end)", (x) => slice(x, -1, -3), [rnd([3, 5, 7], 2)]);
  gradCheck("slice clamped end", (x) => slice(x, 0, 2, 100), [rnd([5, 3], 3)]);
  gradCheck("slice length 1", (x) => slice(x, 2, 6, 7), [rnd([3, 5, 7], 4)]);
});

test("grad concat: axis 0, a middle axis, three inputs of odd sizes", () => {
  gradCheck("concat axis 0", (a, b) => concat([a, b], 0), [rnd([2, 5], 1), rnd([3, 5], 2)]);
  gradCheck("concat axis 1 of three", (a, b, c) => concat([a, b, c], 1), [rnd([3, 1, 7], 3), rnd([3, 5, 7], 4), rnd([3, 2, 7], 5)]);
  gradCheck("concat the same tensor twice", (a) => concat([a, a], -1), [rnd([5, 3], 6)]);
});

test("grad expand: size-1 axes and new leading axes", () => {
  gradCheck("expand (3,1,7)->(3,5,7)", (x) => expand(x, [3, 5, 7]), [rnd([3, 1, 7], 1)]);
  gradCheck("expand (7,)->(2,5,7)", (x) => expand(x, [2, 5, 7]), [rnd([7], 2)]);
  gradCheck("expand (1,1)->(5,13)", (x) => expand(x, [5, 13]), [rnd([1, 1], 3)]);
});

test("grad squeeze and unsqueeze", () => {
  gradCheck("squeeze axis 1", (x) => squeeze(x, 1), [rnd([5, 1, 7], 1)]);
  gradCheck("squeeze axis -1", (x) => squeeze(x, -1), [rnd([5, 1], 2)]);
  gradCheck("unsqueeze axis 0", (x) => unsqueeze(x, 0), [rnd([5, 7], 3)]);
  gradCheck("unsqueeze axis -1", (x) => unsqueeze(x, -1), [rnd([5, 7], 4)]);
});
