// Attention rollout and attention flow (Abnar and Zuidema, 2020, "Quantifying Attention Flow in
// Transformers"). Both see a stack of self-attention layers as a graph: token j of layer l-1
// feeds token i of layer l with weight Â_l[i][j] = residual * [i = j] + (1 - residual) * mean_h A_l[h][i][j],
// rows renormalised (the residual connection counted as attention to oneself).
import { check } from "../util/assert.js";
import type { LayerTrace } from "./trace.js";

export interface FlowOptions {
  /** Batch row to analyse (default 0). */
  batch?: number;
  /** Weight of the identity (residual) in each layer's matrix (default 0.5, as the paper). */
  residual?: number;
}

/** Â_l as T*T row-major float64 arrays, one per layer. */
export function augmentedAttention(layers: readonly LayerTrace[], opts: FlowOptions = {}): Float64Array[] {
  const fn = "augmentedAttention";
  const b = opts.batch ?? 0, r = opts.residual ?? 0.5;
  check(layers.length > 0, fn, "expected at least one layer trace");
  const T = layers[0].T;
  check(r >= 0 && r <= 1, fn, `residual must be in [0, 1], got ${r}`);
  return layers.map((l) => {
    check(l.T === T && l.S === T, fn, `rollout and flow need self-attention with T = S = ${T} in every layer, got layer ${l.index} with T=${l.T}, S=${l.S}`);
    check(Number.isInteger(b) && b >= 0 && b < l.B, fn, `batch must be in [0, ${l.B}), got ${b}`);
    const w = l.weights.values;
    const a = new Float64Array(T * T);
    for (let h = 0; h < l.H; h++) {
      const base = (b * l.H + h) * T * T;
      for (let i = 0; i < T * T; i++) a[i] += w[base + i] / l.H;
    }
    for (let i = 0; i < T; i++) {
      let rowSum = 0;
      for (let j = 0; j < T; j++) rowSum += (a[i * T + j] = (1 - r) * a[i * T + j] + (i === j ? r : 0));
      if (rowSum > 0) for (let j = 0; j < T; j++) a[i * T + j] /= rowSum;
    }
    return a;
  });
}

/**
 * Attention rollout: R = Â_L ... Â_2 Â_1, a (T, T) row-major matrix whose row i says how much
 * the top-layer token i draws on each input token.
 */
export function attentionRollout(layers: readonly LayerTrace[], opts: FlowOptions = {}): Float64Array {
  const mats = augmentedAttention(layers, opts);
  const T = layers[0].T;
  let r = mats[0];
  for (let l = 1; l < mats.length; l++) {
    const a = mats[l], next = new Float64Array(T * T);
    for (let i = 0; i < T; i++) for (let k = 0; k < T; k++) {
      const aik = a[i * T + k];
      if (aik !== 0) for (let j = 0; j < T; j++) next[i * T + j] += aik * r[k * T + j];
    }
    r = next;
  }
  return r;
}

/**
 * Attention flow: entry (i, j) is the maximum flow from input token j (below layer 1) to token i
 * of the top layer through the graph whose edge capacities are the Â_l entries. Costs one
 * max-flow per pair, so `targets` limits the rows computed (others stay 0).
 */
export function attentionFlow(layers: readonly LayerTrace[], opts: FlowOptions & { targets?: readonly number[] } = {}): Float64Array {
  const mats = augmentedAttention(layers, opts);
  const T = layers[0].T, L = mats.length;
  const targets = opts.targets ?? Array.from({ length: T }, (_, i) => i);
  for (const i of targets) check(Number.isInteger(i) && i >= 0 && i < T, "attentionFlow", `targets must be token indices in [0, ${T}), got ${i}`);
  const out = new Float64Array(T * T);
  // node (l, i) = l * T + i for l = 0..L; edge (l-1, j) -> (l, i) with capacity Â_l[i][j]
  const g = new FlowGraph((L + 1) * T);
  for (let l = 1; l <= L; l++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    const c = mats[l - 1][i * T + j];
    if (c > 0) g.addEdge((l - 1) * T + j, l * T + i, c);
  }
  for (const i of targets) for (let j = 0; j < T; j++) out[i * T + j] = g.maxFlow(j, L * T + i);
  return out;
}

/** A directed graph with float capacities and Edmonds-Karp max-flow (shortest augmenting paths). */
class FlowGraph {
  readonly to: number[] = [];
  readonly cap: number[] = [];
  readonly adj: number[][];
  constructor(readonly n: number) {
    this.adj = Array.from({ length: n }, () => []);
  }
  addEdge(u: number, v: number, c: number): void {
    // edge e and its reverse e ^ 1
    this.adj[u].push(this.to.length); this.to.push(v); this.cap.push(c);
    this.adj[v].push(this.to.length); this.to.push(u); this.cap.push(0);
  }
  maxFlow(source: number, sink: number, eps = 1e-12): number {
    const cap = this.cap.slice(); // residual capacities; the graph is reused per pair
    const prevEdge = new Int32Array(this.n);
    let total = 0;
    for (;;) {
      prevEdge.fill(-1);
      const queue = [source];
      let seenSink = false;
      for (let qi = 0; qi < queue.length && !seenSink; qi++) {
        const u = queue[qi];
        for (const e of this.adj[u]) {
          const v = this.to[e];
          if (cap[e] > eps && prevEdge[v] === -1 && v !== source) {
            prevEdge[v] = e;
            if (v === sink) { seenSink = true; break; }
            queue.push(v);
          }
        }
      }
      if (!seenSink) return total;
      let push = Infinity;
      for (let v = sink; v !== source; v = this.to[prevEdge[v] ^ 1]) push = Math.min(push, cap[prevEdge[v]]);
      for (let v = sink; v !== source; v = this.to[prevEdge[v] ^ 1]) {
        cap[prevEdge[v]] -= push;
        cap[prevEdge[v] ^ 1] += push;
      }
      total += push;
    }
  }
}
