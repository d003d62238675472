// Reference reductions over the middle axis of an (outer, n, inner) view.
import type { AnyArray, ReduceOp } from "../kernels.js";

export function reduce(op: ReduceOp, out: AnyArray, x: AnyArray, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = op === "sum" ? 0 : -Infinity;
      for (let j = 0; j < n; j++) {
        const v = x[base + j * inner];
        if (op === "sum") acc += v;
        else if (v > acc || Number.isNaN(v)) acc = v; // max propagates NaN, as NumPy does
      }
      out[o * inner + i] = acc;
    }
  }
}
