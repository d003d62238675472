// Finite-difference gradient checks for cast (between float dtypes) and clone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { cast, clone } from "../../src/ops/cast.js";
import { mul } from "../../src/ops/elementwise.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

test("grad cast float32 <-> float64 passes the gradient through", () => {
  gradCheck("cast to float64", (x) => mul(cast(x, "float64"), 3), [rnd([5, 7], 1)]);
  // the reference side also rounds to float32 here, so use a step far above float32's resolution (f is linear)
  gradCheck("cast to float32", (x) => cast(mul(x, 2), "float32"), [rnd([13], 2)], { eps: 0.05 });
});

test("grad clone passes the gradient through and copies storage", () => {
  gradCheck("clone", (x) => mul(clone(x), x), [rnd([3, 5], 1)]);
  const x = rnd([3], 2, { requiresGrad: true });
  const y = clone(x);
  y.values[0] = 42;
  assert.notEqual(x.values[0], 42);
});

test("cast to an integer or bool dtype records no gradient", () => {
  const x = rnd([4], 3, { requiresGrad: true });
  assert.equal(cast(x, "int32").requiresGrad, false);
  assert.equal(cast(x, "bool").requiresGrad, false);
});
