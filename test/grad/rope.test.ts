// RoPE: finite-difference gradient, a hand-computed rotation, and its two defining properties.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyRope } from "../../src/ops/rope.js";
import { randn, tensor } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { gradCheck } from "../helpers/gradcheck.js";

test("applyRope: gradient matches finite differences (start offset and explicit positions)", () => {
  const x = randn([2, 3, 5, 8], new Rng(1));
  gradCheck("applyRope offset 7", (a) => applyRope(a, 7), [x]);
  gradCheck("applyRope positions", (a) => applyRope(a, [0, 4, 2, 9, 100], { base: 500 }), [x]);
});

test("applyRope: D=2 rotates (x0, x1) by the position's angle", () => {
  // theta_0 = base^0 = 1, so position p rotates by p radians: (x0 cos p - x1 sin p, x1 cos p + x0 sin p)
  const y = applyRope(tensor([[1, 2], [3, -1]]), 3).toFlatArray();
  const expected = [1 * Math.cos(3) - 2 * Math.sin(3), 2 * Math.cos(3) + 1 * Math.sin(3), 3 * Math.cos(4) + 1 * Math.sin(4), -Math.cos(4) + 3 * Math.sin(4)];
  assertClose(y, expected, { rtol: 1e-6, atol: 1e-6 });
});

test("applyRope: keeps vector norms, and q . k depends only on the position difference", () => {
  const rng = new Rng(3);
  const q = randn([1, 16], rng, { dtype: "float64" }), k = randn([1, 16], rng, { dtype: "float64" });
  const norm = (t: number[]) => Math.hypot(...t);
  assert.ok(Math.abs(norm(applyRope(q, 11).toFlatArray()) - norm(q.toFlatArray())) < 1e-9);
  const dot = (pq: number, pk: number) => {
    const a = applyRope(q, pq).toFlatArray(), b = applyRope(k, pk).toFlatArray();
    return a.reduce((s, v, i) => s + v * b[i], 0);
  };
  assert.ok(Math.abs(dot(5, 2) - dot(103, 100)) < 1e-9, `${dot(5, 2)} vs ${dot(103, 100)}`);
  assert.ok(Math.abs(dot(5, 2) - dot(2, 5)) > 1e-6, "a different offset gives a different score");
});

test("applyRope: odd head dim and wrong position count are errors that name the function", () => {
  assert.throws(() => applyRope(randn([2, 3], new Rng(0)), 0), /applyRope: head dim D must be even/);
  assert.throws(() => applyRope(randn([3, 4], new Rng(0)), [0, 1]), /applyRope: expected 3 positions/);
});
