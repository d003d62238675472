// Reference cross-entropy (fused log-softmax + NLL) and embedding lookup kernels.
import type { FloatArray } from "../kernels.js";

function rowLogSumExp(logits: FloatArray, o: number, V: number): number {
  let max = -Infinity;
  for (let c = 0; c < V; c++) if (logits[o + c] > max) max = logits[o + c];
  let sum = 0;
  for (let c = 0; c < V; c++) sum += Math.exp(logits[o + c] - max);
  return max + Math.log(sum);
}

export function crossEntropyForward(losses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    losses[n] = t === ignoreIndex ? 0 : rowLogSumExp(logits, n * V, V) - logits[n * V + t];
  }
}

export function crossEntropyBackward(dlogits: FloatArray, dlosses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t === ignoreIndex) continue;
    const o = n * V, lse = rowLogSumExp(logits, o, V), d = dlosses[n];
    // d loss / d logit_c = softmax_c - [c == t]
    for (let c = 0; c < V; c++) dlogits[o + c] += d * (Math.exp(logits[o + c] - lse) - (c === t ? 1 : 0));
  }
}

export function embeddingForward(out: FloatArray, weight: FloatArray, ids: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const w = ids[n] * C;
    for (let c = 0; c < C; c++) out[n * C + c] = weight[w + c];
  }
}

export function embeddingBackward(dweight: FloatArray, dout: FloatArray, ids: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const w = ids[n] * C;
    for (let c = 0; c < C; c++) dweight[w + c] += dout[n * C + c];
  }
}
