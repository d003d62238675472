// Properties of softmax and logSoftmax: rows sum to 1, shift invariance, logSoftmax = log(softmax).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { add } from "../../src/ops/elementwise.js";
import { logSoftmax, softmax } from "../../src/ops/softmax.js";
import { assertClose } from "../helpers/assert-close.js";
import { rnd } from "../helpers/inputs.js";

const RUNS = { seed: 20261204, numRuns: 50 };
const shapeArb = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 });
const caseArb = fc.record({ shape: shapeArb, seed: fc.nat(1e6), scale: fc.double({ min: 0.1, max: 30, noNaN: true }), axisPick: fc.nat(10) });

test("softmax rows are in [0, 1] and sum to 1 along any axis", () => {
  fc.assert(fc.property(caseArb, ({ shape, seed, scale, axisPick }) => {
    const axis = axisPick % shape.length;
    const y = softmax(rnd(shape, seed, { scale }), axis);
    const sums = y.sum(axis).toFlatArray();
    assert.ok(y.toFlatArray().every((p) => p >= 0 && p <= 1));
    assertClose(sums, sums.map(() => 1), { rtol: 0, atol: 1e-5 }, "row sums");
  }), RUNS);
});

test("softmax and logSoftmax are invariant to adding a constant to every logit", () => {
  fc.assert(fc.property(caseArb, fc.double({ min: -50, max: 50, noNaN: true }), ({ shape, seed, scale }, c) => {
    const x = rnd(shape, seed, { scale });
    // float32 rounding of x + c moves each logit by up to |x + c| * 2^-24
    assertClose(softmax(add(x, c)), softmax(x), { rtol: 1e-4, atol: 2e-5 }, "softmax");
    assertClose(logSoftmax(add(x, c)), logSoftmax(x), { rtol: 1e-4, atol: 2e-5 }, "logSoftmax");
  }), RUNS);
});

test("logSoftmax equals log(softmax) and its exp sums to 1", () => {
  fc.assert(fc.property(caseArb, ({ shape, seed, scale, axisPick }) => {
    const axis = axisPick % shape.length;
    const x = rnd(shape, seed, { scale: Math.min(scale, 5) });
    assertClose(logSoftmax(x, axis), softmax(x, axis).log(), { rtol: 1e-4, atol: 1e-5 });
    const sums = logSoftmax(x, axis).exp().sum(axis).toFlatArray();
    assertClose(sums, sums.map(() => 1), { rtol: 0, atol: 1e-5 });
  }), RUNS);
});
