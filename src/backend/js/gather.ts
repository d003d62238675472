// argmax and torch.gather over an (outer, n, inner) view, with gather's scatter-add backward.
import type { AnyArray, FloatArray } from "../kernels.js";

export function argmax(out: Int32Array, x: AnyArray, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (x[(o * n + j) * inner + i] > x[(o * n + best) * inner + i]) best = j;
    out[o * inner + i] = best;
  }
}

export function gatherForward(out: AnyArray, x: AnyArray, index: Int32Array, outer: number, n: number, m: number, inner: number): void {
  for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let k = 0; k < inner; k++) {
    const at = (o * m + j) * inner + k;
    out[at] = x[(o * n + index[at]) * inner + k];
  }
}

export function gatherBackward(dx: FloatArray, dout: FloatArray, index: Int32Array, outer: number, n: number, m: number, inner: number): void {
  // in the forward pass out[at] = x[src], so now dx[src] += dout[at]
  for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let k = 0; k < inner; k++) {
    const at = (o * m + j) * inner + k;
    dx[(o * n + index[at]) * inner + k] += dout[at];
  }
}
