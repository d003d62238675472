// Finite-difference gradient check for dropout with a fixed seed: the same mask on every call.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dropout } from "../../src/ops/dropout.js";
import { Rng } from "../../src/util/random.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { rnd } from "../helpers/inputs.js";

test("grad dropout p=0.3 with a fixed seed", () => {
  gradCheck("dropout p=0.3", (x) => dropout(x, { p: 0.3, training: true, rng: new Rng(7) }), [rnd([5, 13], 1)]);
});

test("dropout zeroes about p of the values, scales the rest by 1/(1-p), and is the identity in eval", () => {
  const x = rnd([1000], 2);
  const y = dropout(x, { p: 0.25, training: true, rng: new Rng(3) });
  let zeros = 0;
  for (let i = 0; i < x.size; i++) {
    if (y.values[i] === 0) zeros++;
    else assert.ok(Math.abs(y.values[i] - x.values[i] / 0.75) < 1e-5);
  }
  assert.ok(zeros > 200 && zeros < 300, `${zeros} zeros of 1000 at p=0.25`);
  assert.equal(dropout(x, { p: 0.25, training: false, rng: new Rng(3) }), x);
  assert.deepEqual(dropout(x, { p: 0.25, training: true, rng: new Rng(3) }).toFlatArray(), y.toFlatArray());
});
