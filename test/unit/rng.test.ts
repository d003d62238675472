// Rng: determinism per seed, ranges, and a getState/setState round trip that includes the spare normal.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/util/random.js";

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.nextUint32());

test("the same seed gives the same stream; different seeds give different streams", () => {
  assert.deepEqual(draw(new Rng(42), 100), draw(new Rng(42), 100));
  assert.notDeepEqual(draw(new Rng(42), 10), draw(new Rng(43), 10));
  assert.notDeepEqual(draw(new Rng(0), 10), draw(new Rng(1), 10));
  // no seed is degenerate: every stream has distinct words
  for (const seed of [0, 1, 2 ** 32 - 1, -1]) assert.ok(new Set(draw(new Rng(seed), 50)).size === 50, `seed ${seed}`);
});

test("next() is uniform in [0, 1), int(n) in [0, n), normal() has mean 0 and variance 1", () => {
  const rng = new Rng(7);
  const u = Array.from({ length: 20000 }, () => rng.next());
  assert.ok(u.every((x) => x >= 0 && x < 1));
  const mean = u.reduce((a, b) => a + b) / u.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `uniform mean ${mean}`);
  const ints = Array.from({ length: 5000 }, () => rng.int(7));
  assert.ok(ints.every((i) => Number.isInteger(i) && i >= 0 && i < 7));
  assert.equal(new Set(ints).size, 7);
  const z = Array.from({ length: 20000 }, () => rng.normal());
  const m = z.reduce((a, b) => a + b) / z.length;
  const v = z.reduce((a, b) => a + (b - m) ** 2, 0) / z.length;
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `normal mean ${m}, variance ${v}`);
});

test("getState/setState round trip continues the stream exactly, spare normal included", () => {
  const a = new Rng(123);
  draw(a, 5);
  a.normal(); // leaves a spare normal in the state
  const state = a.getState();
  assert.notEqual(state.spare, null);
  const expected = [a.normal(), a.next(), a.normal(), a.normal(), ...draw(a, 5)];
  const b = new Rng(999);
  b.setState(state);
  assert.deepEqual([b.normal(), b.next(), b.normal(), b.normal(), ...draw(b, 5)], expected);
  // the state is a copy: changing it afterwards does not touch the generator
  const c = new Rng(5);
  const s = c.getState();
  const next = new Rng(5).nextUint32();
  s.words[0] ^= 1;
  assert.equal(c.nextUint32(), next);
  // and survives JSON (for checkpoints)
  const d = new Rng(8);
  d.normal();
  const e = new Rng(0);
  e.setState(JSON.parse(JSON.stringify(d.getState())));
  assert.deepEqual([e.normal(), ...draw(e, 3)], [d.normal(), ...draw(d, 3)]);
});

test("shuffle is a seeded permutation", () => {
  const a = new Rng(3).shuffle([...Array(20).keys()]);
  assert.deepEqual([...a].sort((x, y) => x - y), [...Array(20).keys()]);
  assert.deepEqual(new Rng(3).shuffle([...Array(20).keys()]), a);
  assert.notDeepEqual(a, [...Array(20).keys()]);
});
