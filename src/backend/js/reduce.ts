// Reference reductions over the middle axis of an (outer, n, inner) view.
import type { AnyArray, ReduceOp } from "../kernels.js";

export function reduce(op: ReduceOp, out: AnyArray, x: AnyArray, outer: number, n: number, inner: number): void {
  // float64 accumulators, one per output, filled by walking x contiguously: each output still adds
  // its n values in order j = 0..n-1, so the result is that of the plain per-output loop
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(op === "sum" ? 0 : -Infinity);
    for (let j = 0; j < n; j++) {
      const row = (o * n + j) * inner;
      if (op === "sum") for (let i = 0; i < inner; i++) acc[i] += x[row + i];
      else for (let i = 0; i < inner; i++) {
        const v = x[row + i];
        if (v > acc[i] || Number.isNaN(v)) acc[i] = v; // max propagates NaN, as NumPy does
      }
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i];
  }
}
