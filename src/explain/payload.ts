// The visualizer's data: a JSON-ready summary of a trace (arrays as base64 float32, or uint8 for
// large weight maps) plus rollout, flow, head labels and ablation. Browser-safe; the page decodes it.
import { check } from "../util/assert.js";
import { attentionFlow, attentionRollout } from "./flow.js";
import { labelHeads, type HeadAblation } from "./heads.js";
import type { LayerTrace } from "./trace.js";

/**
 * A typed array as text: f32 = little-endian float32; u8 = round(value * 255) for values in [0, 1],
 * or round(sqrt(value) * 255) when `sqrt` (finer steps near 0, where long-context weights live).
 */
export interface Encoded {
  dtype: "f32" | "u8";
  sqrt?: boolean;
  shape: number[];
  b64: string;
}

export interface LayerPayload {
  name: string;
  H: number; T: number; S: number; D: number; Dv: number;
  weights: Encoded; // (H, T, S)
  /** Present when the trace is small enough (see PayloadOptions.detailLimit). */
  q?: Encoded; // (H, T, D)
  k?: Encoded; // (H, S, D), key/value heads already repeated per query head
  v?: Encoded; // (H, S, Dv)
  scores?: Encoded; // (H, T, S)
  mask?: Encoded; // (H, T, S) 0/1
  headOutput?: Encoded; // (H, T, Dv)
  /** d(target)/d(weights), when the trace has it and is small enough. */
  grad?: Encoded; // (H, T, S)
  entropy: number[]; // (H)
  roles: string[]; // (H)
}

export interface ExplainPayload {
  version: 1;
  title: string;
  /** Key-side labels (S), and query-side labels (T): the same list for self-attention. */
  tokens: string[];
  queryTokens: string[];
  /** A line per key token (a guest's story), or null. */
  details: string[] | null;
  layers: LayerPayload[];
  rollout: Encoded | null; // (T, T)
  flow: Encoded | null; // (T, T)
  ablation: { loss: number; heads: { layer: number; head: number; dLoss: number; maxAbsDLogit: number }[] } | null;
  /** The query row the page opens on (the party's question, say). */
  focus: number;
  /** Extra lines shown under the title (the model's answer, its loss). */
  notes: string[];
  /** True when the page should poll for live training updates. */
  live: boolean;
}

export interface PayloadOptions {
  title?: string;
  tokens: readonly string[];
  queryTokens?: readonly string[];
  details?: readonly string[];
  /** Token ids (or strings) for head labels; defaults to the labels. */
  ids?: readonly (number | string)[];
  batch?: number;
  ablation?: { loss: number; heads: readonly HeadAblation[] } | null;
  focus?: number;
  notes?: string[];
  live?: boolean;
  /** Keep q, k, v, scores and head outputs when L*H*T*S is at most this (default 262144). */
  detailLimit?: number;
  /** Store weights as uint8 when L*H*T*S exceeds this (default 4194304). */
  quantizeAbove?: number;
  /** Compute attention flow (one max-flow per token pair) when T is at most this (default 24). */
  flowLimit?: number;
  /** Compute rollout (L matrix products, O(L T^3)) when T is at most this (default 512). */
  rolloutLimit?: number;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 of bytes, without Buffer or btoa (both environments). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const chunk = 3 * 8192;
  for (let off = 0; off < bytes.length; off += chunk) {
    const end = Math.min(bytes.length, off + chunk);
    let s = "";
    for (let i = off; i < end; i += 3) {
      const n = (bytes[i] << 16) | ((i + 1 < end ? bytes[i + 1] : 0) << 8) | (i + 2 < end ? bytes[i + 2] : 0);
      s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < end ? B64[(n >> 6) & 63] : "=") + (i + 2 < end ? B64[n & 63] : "=");
    }
    parts.push(s);
  }
  return parts.join("");
}

export function encodeF32(values: ArrayLike<number>, shape: number[]): Encoded {
  const f = Float32Array.from(values);
  return { dtype: "f32", shape, b64: toBase64(new Uint8Array(f.buffer)) };
}

export function encodeU8(values: ArrayLike<number>, shape: number[], opts: { sqrt?: boolean } = {}): Encoded {
  const u = new Uint8Array(values.length);
  const f = opts.sqrt ? Math.sqrt : (x: number) => x;
  for (let i = 0; i < u.length; i++) u[i] = Math.round(f(Math.min(1, Math.max(0, values[i]))) * 255);
  return opts.sqrt ? { dtype: "u8", sqrt: true, shape, b64: toBase64(u) } : { dtype: "u8", shape, b64: toBase64(u) };
}

/** Batch row b of a (B, X, ...) tensor's values, with key/value heads repeated to H when G < H. */
function batchRow(values: ArrayLike<number>, B: number, heads: number, H: number, per: number, b: number): Float32Array {
  const out = new Float32Array(H * per);
  for (let h = 0; h < H; h++) {
    const src = (b * heads + Math.floor(h / (H / heads))) * per;
    for (let i = 0; i < per; i++) out[h * per + i] = values[src + i];
  }
  return out;
}

/** Builds the page's data from a trace. Rollout and flow only for self-attention stacks. */
export function buildPayload(layers: readonly LayerTrace[], opts: PayloadOptions): ExplainPayload {
  const fn = "buildPayload";
  check(layers.length > 0, fn, "expected at least one layer trace");
  const b = opts.batch ?? 0;
  const queryTokens = [...(opts.queryTokens ?? opts.tokens)];
  const total = layers.reduce((n, l) => n + l.H * l.T * l.S, 0);
  const detail = total <= (opts.detailLimit ?? 262144);
  const quantize = total > (opts.quantizeAbove ?? 4194304);
  const selfAttention = layers.every((l) => l.T === l.S && l.T === layers[0].T);
  const labels = labelHeads(layers, opts.ids ?? (selfAttention ? opts.tokens : []), { batch: b });
  const out: LayerPayload[] = layers.map((l) => {
    check(l.S === opts.tokens.length && l.T === queryTokens.length, fn, `layer ${l.index} has T=${l.T}, S=${l.S}, but got ${queryTokens.length} query and ${opts.tokens.length} key labels`);
    const { H, G, T, S, D, Dv, B } = l;
    const w = batchRow(l.weights.values, B, H, H, T * S, b);
    const p: LayerPayload = {
      name: `layer ${l.index}`, H, T, S, D, Dv,
      weights: quantize ? encodeU8(w, [H, T, S], { sqrt: true }) : encodeF32(w, [H, T, S]),
      entropy: labels.filter((x) => x.layer === l.index).map((x) => x.entropy),
      roles: labels.filter((x) => x.layer === l.index).map((x) => x.role),
    };
    if (detail) {
      p.q = encodeF32(batchRow(l.q.values, B, H, H, T * D, b), [H, T, D]);
      p.k = encodeF32(batchRow(l.k.values, B, G, H, S * D, b), [H, S, D]);
      p.v = encodeF32(batchRow(l.v.values, B, G, H, S * Dv, b), [H, S, Dv]);
      p.scores = encodeF32(batchRow(l.scores.values, B, H, H, T * S, b), [H, T, S]);
      p.mask = encodeF32(batchRow(l.mask, B, H, H, T * S, b), [H, T, S]);
      p.headOutput = encodeF32(batchRow(l.headOutput.values, B, H, H, T * Dv, b), [H, T, Dv]);
      if (l.weightsGrad) p.grad = encodeF32(batchRow(l.weightsGrad.values, B, H, H, T * S, b), [H, T, S]);
    }
    return p;
  });
  const T = layers[0].T;
  const focus = opts.focus ?? T - 1;
  check(Number.isInteger(focus) && focus >= 0 && focus < T, fn, `focus must be a query index in [0, ${T}), got ${focus}`);
  return {
    version: 1,
    title: opts.title ?? "qkv attention",
    tokens: [...opts.tokens],
    queryTokens,
    details: opts.details ? [...opts.details] : null,
    layers: out,
    rollout: selfAttention && T <= (opts.rolloutLimit ?? 512) ? (quantize ? encodeU8(attentionRollout(layers, { batch: b }), [T, T], { sqrt: true }) : encodeF32(attentionRollout(layers, { batch: b }), [T, T])) : null,
    flow: selfAttention && T <= (opts.flowLimit ?? 24) ? encodeF32(attentionFlow(layers, { batch: b }), [T, T]) : null,
    ablation: opts.ablation ? { loss: opts.ablation.loss, heads: opts.ablation.heads.map(({ layer, head, dLoss, maxAbsDLogit }) => ({ layer, head, dLoss, maxAbsDLogit })) } : null,
    focus,
    notes: opts.notes ?? [],
    live: opts.live ?? false,
  };
}

/** JSON safe to place inside a <script> element (no "</script>", no U+2028/2029 surprises). */
export function payloadJson(p: ExplainPayload): string {
  return JSON.stringify(p).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
