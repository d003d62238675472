// Reference scaled dot-product attention, forward and backward, one query row at a time.
// q (B, H, T, D), k (B, G, S, D), v (B, G, S, Dv), out (B, H, T, Dv); query head h reads kv head
// floor(h / (H / G)). A key is allowed when the mask (if any) is true and, if causal, s <= t + offset.
// A row with no allowed key outputs zeros, lse = -Infinity, and gets no gradient.
import type { AttentionDims, FloatArray } from "../kernels.js";

/** Fills `scores` with row (b, h, t)'s scaled, biased scores; -Infinity where the key is not allowed. */
function rowScores(scores: Float64Array, q: FloatArray, k: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims, b: number, h: number, t: number): void {
  const { H, G, T, S, D, scale, causalOffset, maskStrides: ms, biasStrides: bs } = d;
  const g = Math.floor(h / (H / G));
  const qo = ((b * H + h) * T + t) * D;
  for (let s = 0; s < S; s++) {
    const allowed =
      (causalOffset === null || s <= t + causalOffset) &&
      (mask === null || ms === null || mask[b * ms[0] + h * ms[1] + t * ms[2] + s * ms[3]] !== 0);
    if (!allowed) {
      scores[s] = -Infinity;
      continue;
    }
    const ko = ((b * G + g) * S + s) * D;
    let dot = 0;
    for (let i = 0; i < D; i++) dot += q[qo + i] * k[ko + i];
    scores[s] = dot * scale + (bias !== null && bs !== null ? bias[b * bs[0] + h * bs[1] + t * bs[2] + s * bs[3]] : 0);
  }
}

export function attentionForward(out: FloatArray, lse: FloatArray, weights: FloatArray | null, q: FloatArray, k: FloatArray, v: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  const { B, H, G, T, S, Dv } = d;
  const scores = new Float64Array(S);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / G));
    for (let t = 0; t < T; t++) {
      const row = (b * H + h) * T + t;
      rowScores(scores, q, k, mask, bias, d, b, h, t);
      // a NaN score makes max NaN so the row comes out NaN (as PyTorch), not "no allowed key"
      let max = -Infinity;
      for (let s = 0; s < S; s++) if (scores[s] > max || Number.isNaN(scores[s])) max = scores[s];
      const oo = row * Dv;
      for (let i = 0; i < Dv; i++) out[oo + i] = 0;
      if (max === -Infinity) {
        lse[row] = -Infinity;
        if (weights) for (let s = 0; s < S; s++) weights[row * S + s] = 0;
        continue;
      }
      let sum = 0;
      for (let s = 0; s < S; s++) sum += Math.exp(scores[s] - max);
      const rowLse = max + Math.log(sum);
      lse[row] = rowLse;
      for (let s = 0; s < S; s++) {
        const p = Math.exp(scores[s] - rowLse);
        if (weights) weights[row * S + s] = p;
        if (p === 0) continue;
        const vo = ((b * G + g) * S + s) * Dv;
        for (let i = 0; i < Dv; i++) out[oo + i] += p * v[vo + i];
      }
    }
  }
}

export function attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, dbias: FloatArray | null, dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  const { B, H, G, T, S, D, Dv, scale } = d;
  const scores = new Float64Array(S);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / G));
    for (let t = 0; t < T; t++) {
      const row = (b * H + h) * T + t;
      if (lse[row] === -Infinity) continue;
      rowScores(scores, q, k, mask, bias, d, b, h, t);
      const qo = row * D, oo = row * Dv;
      // sum_s p_s dP_s = dout . out, since out = sum_s p_s v_s
      let delta = 0;
      for (let i = 0; i < Dv; i++) delta += dout[oo + i] * out[oo + i];
      for (let s = 0; s < S; s++) {
        const p = Math.exp(scores[s] - lse[row]);
        if (p === 0) continue;
        const ko = ((b * G + g) * S + s) * D, vo = ((b * G + g) * S + s) * Dv;
        // in the forward pass this was: out += p_s * v_s; so dv_s += p_s * dout and dP_s = dout . v_s
        let dp = 0;
        for (let i = 0; i < Dv; i++) {
          dp += dout[oo + i] * v[vo + i];
          dv[vo + i] += p * dout[oo + i];
        }
        // softmax: dscore_s = p_s * (dP_s - delta); score = scale * q . k_s + bias
        const ds = p * (dp - delta);
        if (dbias) dbias[row * S + s] += ds;
        for (let i = 0; i < D; i++) {
          dq[qo + i] += scale * ds * k[ko + i];
          dk[ko + i] += scale * ds * q[qo + i];
        }
      }
    }
  }
}
