// Rotary position embedding (Su et al. 2021, RoFormer), rotate-half convention (GPT-NeoX, Llama).
// Composite: slice, neg, concat, mul, add, so its gradient comes from the primitives.
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { add, mul, neg } from "./elementwise.js";
import { concat, slice } from "./movement.js";

export interface RopeOptions {
  /** Frequency base; theta_i = base^(-2i/D). 10000 as in RoFormer and Llama. */
  base?: number;
}

/** cos and sin tables (T, D) for the given absolute positions, in `dtype`; both halves share frequencies. */
export function ropeTables(positions: ArrayLike<number>, D: number, dtype: "float32" | "float64", base = 10000): { cos: Tensor; sin: Tensor } {
  const T = positions.length, half = D / 2;
  const Arr = dtype === "float64" ? Float64Array : Float32Array;
  const cos = new Arr(T * D), sin = new Arr(T * D);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[t] * Math.pow(base, (-2 * i) / D);
      const c = Math.cos(angle), s = Math.sin(angle);
      cos[t * D + i] = cos[t * D + half + i] = c;
      sin[t * D + i] = sin[t * D + half + i] = s;
    }
  }
  return { cos: Tensor.fromArray(cos, [T, D], dtype), sin: Tensor.fromArray(sin, [T, D], dtype) };
}

/**
 * Rotates each (x_i, x_{i+D/2}) pair of the last axis by angle pos * base^(-2i/D):
 * out = x * cos + rotateHalf(x) * sin, rotateHalf(x) = concat(-x[..., D/2:], x[..., :D/2]).
 *
 * x (..., T, D) with D even. `positions` is the absolute position of the first row (the KV-cache
 * length when decoding) or one position per row (T). Then q . k depends only on the position
 * difference. Reference: HF transformers `apply_rotary_pos_emb`.
 */
export function applyRope(x: Tensor, positions: number | ArrayLike<number>, opts: RopeOptions = {}): Tensor {
  check(x instanceof Tensor && x.ndim >= 2, "applyRope", () => `expected x (..., T, D), got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`);
  check(x.dtype === "float32" || x.dtype === "float64", "applyRope", `expected a float tensor, got ${x.dtype}`);
  const T = x.shape[x.ndim - 2], D = x.shape[x.ndim - 1];
  check(D % 2 === 0, "applyRope", () => `head dim D must be even, got ${fmtShape(x.shape)}`);
  let pos: ArrayLike<number>;
  if (typeof positions === "number") {
    check(Number.isInteger(positions) && positions >= 0, "applyRope", `start position must be a non-negative integer, got ${positions}`);
    pos = Array.from({ length: T }, (_, t) => positions + t);
  } else {
    check(positions.length === T, "applyRope", () => `expected ${T} positions for x ${fmtShape(x.shape)}, got ${positions.length}`);
    pos = positions;
  }
  const { cos, sin } = ropeTables(pos, D, x.dtype, opts.base ?? 10000);
  const half = D / 2;
  const rotated = concat([neg(slice(x, -1, half, D)), slice(x, -1, 0, half)], x.ndim - 1); // (..., T, D)
  return add(mul(x, cos), mul(rotated, sin));
}
