// Reference row-wise softmax and log-softmax over x (N, C), max-subtracted so that +-1e4 logits stay finite.
import type { FloatArray } from "../kernels.js";

export function softmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (x[o + c] > max) max = x[o + c];
    if (max === -Infinity) max = 0; // an all -inf row gives NaN, as in PyTorch; avoid -inf - -inf here only
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(x[o + c] - max);
      out[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[o + c] /= sum;
  }
}

export function softmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dy[o + c] * y[o + c];
    // d(softmax)_i = y_i * (dy_i - sum_j dy_j y_j)
    for (let c = 0; c < C; c++) dx[o + c] += y[o + c] * (dy[o + c] - dot);
  }
}

export function logSoftmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (x[o + c] > max) max = x[o + c];
    if (max === -Infinity) max = 0;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[o + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c] - lse;
  }
}

export function logSoftmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dy[o + c];
    // d(log softmax)_i = dy_i - softmax_i * sum_j dy_j
    for (let c = 0; c < C; c++) dx[o + c] += dy[o + c] - Math.exp(y[o + c]) * sum;
  }
}
