// Seeded test inputs: each call draws from its own Rng(seed), so a test reads the same numbers every run.
import { randn, rand, tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { sizeOf, type Shape } from "../../src/util/shape.js";

/** Standard normal float32 values of `shape`. */
export function rnd(shape: Shape, seed: number, opts: { requiresGrad?: boolean; scale?: number } = {}): Tensor {
  return randn(shape, new Rng(seed), { std: opts.scale ?? 1, requiresGrad: opts.requiresGrad });
}

/** Uniform values in [low, high): keeps log, sqrt and pow away from 0 and negative bases. */
export function uniform(shape: Shape, seed: number, low: number, high: number): Tensor {
  return rand(shape, new Rng(seed), { low, high });
}

/** A random bool tensor with roughly `pTrue` of its entries true. */
export function boolMask(shape: Shape, seed: number, pTrue = 0.6): Tensor {
  const rng = new Rng(seed);
  const values = Array.from({ length: sizeOf(shape) }, () => (rng.next() < pTrue ? 1 : 0));
  return tensor(values, shape, { dtype: "bool" });
}

/** Random int32 ids in [0, n). */
export function ids(shape: Shape, seed: number, n: number): Tensor {
  const rng = new Rng(seed);
  return tensor(Array.from({ length: sizeOf(shape) }, () => rng.int(n)), shape, { dtype: "int32" });
}
