// Properties of broadcasting gradients and reshapes: gradients have their input's shape and sum the
// broadcast copies; reshape followed by the inverse reshape is the identity on values and gradients.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { add, div, maximum, mul, sub, where } from "../../src/ops/elementwise.js";
import { permute, reshape } from "../../src/ops/movement.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { sizeOf } from "../../src/util/shape.js";
import { assertClose } from "../helpers/assert-close.js";
import { boolMask, rnd, uniform } from "../helpers/inputs.js";

const RUNS = { seed: 777, numRuns: 50 };

/** An output shape and an operand shape that broadcasts to it (leading axes dropped, some axes set to 1). */
const operandArb = (out: number[]) =>
  fc.record({ drop: fc.integer({ min: 0, max: out.length }), ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }) })
    .map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

const caseArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }).chain((out) =>
  fc.record({ out: fc.constant(out), a: operandArb(out), b: operandArb(out), c: operandArb(out), seed: fc.nat(1e6), op: fc.constantFrom("add", "sub", "mul", "div", "maximum", "where") }));

test("broadcasting ops give each input a gradient of its own shape, equal to the summed broadcast copies", () => {
  fc.assert(fc.property(caseArb, ({ out, a, b, c, seed, op }) => {
    const x = uniform(a, seed, 0.5, 2), y = uniform(b, seed + 1, 0.5, 2);
    const xa = tensor(x.values.slice(), a, { requiresGrad: true }), ya = tensor(y.values.slice(), b, { requiresGrad: true });
    const cond = boolMask(c, seed + 2);
    const f: Record<string, (p: Tensor, q: Tensor) => Tensor> = { add, sub, mul, div, maximum, where: (p, q) => where(cond, p, q) };
    const z = f[op](xa, ya);
    const full = [...z.shape];
    z.sum().backward();
    assert.deepEqual([...xa.grad!.shape], a, `${op}: grad of x`);
    assert.deepEqual([...ya.grad!.shape], b, `${op}: grad of y`);
    // for add, each input element was copied prod(full) / prod(own) times, each with gradient 1
    if (op === "add") {
      assertClose(xa.grad!, xa.grad!.toFlatArray().map(() => sizeOf(full) / sizeOf(a)), {}, "add grad x");
      assertClose(ya.grad!, ya.grad!.toFlatArray().map(() => sizeOf(full) / sizeOf(b)), {}, "add grad y");
    }
    assert.ok(full.length >= Math.max(a.length, b.length) && sizeOf(full) <= sizeOf(out));
  }), RUNS);
});

/** A shape and another factorization of the same size. */
const reshapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 }).chain((shape) => {
  const n = sizeOf(shape);
  const factors: number[] = [];
  for (let f = 1; f <= n; f++) if (n % f === 0) factors.push(f);
  return fc.record({ shape: fc.constant(shape), first: fc.constantFrom(...factors), infer: fc.boolean(), seed: fc.nat(1e6) })
    .map((r) => ({ ...r, target: r.infer ? [r.first, -1] : [r.first, n / r.first] }));
});

test("reshape then the inverse reshape is the identity on values, and gradients pass through unchanged", () => {
  fc.assert(fc.property(reshapeArb, ({ shape, target, seed }) => {
    const x = rnd(shape, seed, { requiresGrad: true });
    const there = reshape(x, target);
    assert.equal(there.size, x.size);
    const back = reshape(there, shape);
    assert.deepEqual([...back.shape], shape);
    assert.deepEqual(back.toFlatArray(), x.toFlatArray());
    const g = rnd(shape, seed + 1);
    mul(back, 1).backward(g);
    assert.deepEqual(x.grad!.toFlatArray(), g.toFlatArray());
  }), RUNS);
});

test("permute then the inverse permutation is the identity", () => {
  const permArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
    fc.record({ shape: fc.constant(shape), order: fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }), seed: fc.nat(1e6) }));
  fc.assert(fc.property(permArb, ({ shape, order, seed }) => {
    const x = rnd(shape, seed);
    const inverse = order.map((_, i) => order.indexOf(i));
    const y = permute(x, order);
    assert.deepEqual([...y.shape], order.map((a) => shape[a]));
    assert.deepEqual(permute(y, inverse).toFlatArray(), x.toFlatArray());
  }), RUNS);
});
