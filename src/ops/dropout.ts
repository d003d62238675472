// Dropout: zero each value with probability p and scale the rest by 1/(1-p); identity in eval mode.
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { mul } from "./elementwise.js";

export interface DropoutOptions {
  p: number;
  /** Off (identity) unless true, as a module in eval mode. */
  training: boolean;
  /** The seeded generator that draws the mask. */
  rng: Rng;
}

export function dropout(x: Tensor, opts: DropoutOptions): Tensor {
  const { p, training, rng } = opts;
  check(p >= 0 && p <= 1, "dropout", `p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  check(rng !== undefined, "dropout", "training mode needs a seeded rng");
  const mask = new (x.dtype === "float64" ? Float64Array : Float32Array)(x.size);
  const keep = 1 - p;
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return mul(x, Tensor.fromArray(mask, x.shape, x.dtype === "float64" ? "float64" : "float32"));
}
