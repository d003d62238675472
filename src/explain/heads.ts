// Per-head summaries: entropy of the attention rows, a label for what a head mostly does, and head
// ablation (zero one head's output, report the change in loss and logits).
import { noGrad } from "../autograd/no-grad.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { ablateHeads, traceAttention, type LayerTrace } from "./trace.js";

/** Mean over query rows (that may attend anything) of -sum_s w log w, in nats; one per head. */
export function headEntropy(layer: LayerTrace, batch = 0): Float64Array {
  const { H, T, S } = layer;
  const w = layer.weights.values, m = layer.mask;
  const out = new Float64Array(H);
  for (let h = 0; h < H; h++) {
    let total = 0, rows = 0;
    for (let t = 0; t < T; t++) {
      const base = ((batch * H + h) * T + t) * S;
      let e = 0, any = false;
      for (let s = 0; s < S; s++) {
        if (m[base + s]) any = true;
        const p = w[base + s];
        if (p > 0) e -= p * Math.log(p);
      }
      if (any) { total += e; rows++; }
    }
    out[h] = rows > 0 ? total / rows : 0;
  }
  return out;
}

export const headRoles = ["previous token", "same token", "first token", "induction", "self"] as const;
export type HeadRole = (typeof headRoles)[number] | "mixed" | "cross-attention";

export interface HeadLabel {
  layer: number;
  head: number;
  /** The role with the largest score when it reaches the threshold, else "mixed". */
  role: HeadRole;
  /** Mean attention mass a query row puts on the positions each role predicts (rows where the role applies). */
  scores: Record<(typeof headRoles)[number], number>;
  entropy: number;
}

/**
 * Labels every head of a self-attention trace from the tokens it saw. A role's score is the
 * attention mass on: s = t-1 (previous token), s != t with the same token (same token), s = 0
 * (first token, rows t >= 1), s with tokens[s-1] = tokens[t] for an earlier s-1 (induction:
 * the token that followed an earlier copy of this one), s = t (self).
 */
export function labelHeads(layers: readonly LayerTrace[], tokens: readonly (number | string)[], opts: { batch?: number; threshold?: number } = {}): HeadLabel[] {
  const b = opts.batch ?? 0, threshold = opts.threshold ?? 0.4;
  const out: HeadLabel[] = [];
  for (const l of layers) {
    const entropy = headEntropy(l, b);
    const self = l.T === l.S;
    if (self) check(tokens.length === l.T, "labelHeads", `expected ${l.T} tokens for layer ${l.index}, got ${tokens.length}`);
    for (let h = 0; h < l.H; h++) {
      const scores = { "previous token": 0, "same token": 0, "first token": 0, induction: 0, self: 0 };
      if (!self) {
        out.push({ layer: l.index, head: h, role: "cross-attention", scores, entropy: entropy[h] });
        continue;
      }
      const T = l.T, w = l.weights.values;
      const n = { "previous token": 0, "same token": 0, "first token": 0, induction: 0, self: 0 };
      for (let t = 0; t < T; t++) {
        const row = ((b * l.H + h) * T + t) * T;
        let same = 0, hasSame = false, ind = 0, hasInd = false;
        for (let s = 0; s < T; s++) {
          if (s !== t && tokens[s] === tokens[t] && l.mask[row + s]) { same += w[row + s]; hasSame = true; }
          if (s >= 1 && s - 1 < t && tokens[s - 1] === tokens[t] && l.mask[row + s]) { ind += w[row + s]; hasInd = true; }
        }
        if (t >= 1) { scores["previous token"] += w[row + t - 1]; n["previous token"]++; scores["first token"] += w[row]; n["first token"]++; }
        if (hasSame) { scores["same token"] += same; n["same token"]++; }
        if (hasInd) { scores.induction += ind; n.induction++; }
        scores.self += w[row + t]; n.self++;
      }
      let role: HeadRole = "mixed", best = threshold;
      for (const r of headRoles) {
        scores[r] = n[r] > 0 ? scores[r] / n[r] : 0;
        if (scores[r] >= best) { best = scores[r]; role = r; }
      }
      out.push({ layer: l.index, head: h, role, scores, entropy: entropy[h] });
    }
  }
  return out;
}

export interface RunOutputs {
  /** A scalar loss. */
  loss?: Tensor;
  /** Logits of any shape; compared elementwise. */
  logits?: Tensor;
}

export interface HeadAblation {
  layer: number;
  head: number;
  /** loss(ablated) - loss(intact); NaN without a loss. */
  dLoss: number;
  /** max |logits(ablated) - logits(intact)|; NaN without logits. */
  maxAbsDLogit: number;
  /** logits(ablated) - logits(intact), flattened; empty without logits. */
  dLogits: Float32Array;
}

/** Zeroes each head in turn (one forward per head, gradients off) and reports what changed. */
export function headAblation(run: () => RunOutputs): { loss: number; heads: HeadAblation[] } {
  return noGrad(() => {
    const base = traceAttention(run);
    const loss0 = base.result.loss?.item() ?? NaN;
    const logits0 = base.result.logits?.toFlatArray() ?? [];
    const heads: HeadAblation[] = [];
    for (const l of base.layers) for (let h = 0; h < l.H; h++) {
      const r = ablateHeads(run, [{ layer: l.index, head: h }]);
      const lg = r.logits?.toFlatArray() ?? [];
      const d = new Float32Array(lg.length);
      let maxAbs = lg.length ? 0 : NaN;
      for (let i = 0; i < lg.length; i++) maxAbs = Math.max(maxAbs, Math.abs((d[i] = lg[i] - logits0[i])));
      heads.push({ layer: l.index, head: h, dLoss: (r.loss?.item() ?? NaN) - loss0, maxAbsDLogit: maxAbs, dLogits: d });
    }
    return { loss: loss0, heads };
  });
}
