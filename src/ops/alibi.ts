// ALiBi (Press, Smith and Lewis 2022, "Train Short, Test Long"): a per-head linear penalty on
// distance added to the attention scores instead of position embeddings.
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";

/**
 * The head slopes m_h. For H a power of two, m_h = 2^(-8 (h+1) / H); otherwise the slopes of the
 * nearest lower power of two followed by every other slope of the next power (the paper's code).
 */
export function alibiSlopes(H: number): number[] {
  check(Number.isInteger(H) && H > 0, "alibiSlopes", `expected a positive integer head count, got ${H}`);
  const pow2 = (n: number) => Array.from({ length: n }, (_, h) => Math.pow(2, (-8 * (h + 1)) / n));
  if (Number.isInteger(Math.log2(H))) return pow2(H);
  const closest = Math.pow(2, Math.floor(Math.log2(H)));
  return [...pow2(closest), ...alibiSlopes(2 * closest).filter((_, i) => i % 2 === 0).slice(0, H - closest)];
}

/**
 * The additive bias (1, H, T, S): m_h * (s - p) where query t sits at absolute position
 * p = t + S - T (bottom-right, as the causal mask) and key s at position s.
 */
export function alibiBias(H: number, T: number, S: number, dtype: "float32" | "float64" = "float32"): Tensor {
  const slopes = alibiSlopes(H);
  const out = dtype === "float64" ? new Float64Array(H * T * S) : new Float32Array(H * T * S);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const p = t + S - T;
    for (let s = 0; s < S; s++) out[(h * T + t) * S + s] = slopes[h] * (s - p);
  }
  return Tensor.fromArray(out, [1, H, T, S], dtype);
}

/** Bool (1, 1, T, S): query at p = t + S - T may see keys s with p - W < s <= p. */
export function slidingWindowMask(T: number, S: number, W: number): Tensor {
  check(Number.isInteger(W) && W > 0, "slidingWindowMask", `window must be a positive integer, got ${W}`);
  const out = new Uint8Array(T * S);
  for (let t = 0; t < T; t++) {
    const p = t + S - T;
    for (let s = Math.max(0, p - W + 1); s <= Math.min(S - 1, p); s++) out[t * S + s] = 1;
  }
  return Tensor.fromArray(out, [1, 1, T, S], "bool");
}
