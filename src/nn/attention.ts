// MultiHeadAttention: Q = X W^Q, K = C W^K, V = C W^V (C = X for self-attention), heads split the
// model dimension in order, sdpa per head, then the output projection W^O.
// Shape letters: B batch, T queries, S keys, C model dim, H query heads, G key/value heads, D head dim.
import { scaledDotProductAttention, type AttentionResult } from "../ops/attention.js";
import { reshape, transpose } from "../ops/movement.js";
import { applyRope } from "../ops/rope.js";
import type { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { Linear } from "./linear.js";
import { Module } from "./module.js";
import { initRng } from "./init.js";
import type { KVCache } from "./kv-cache.js";
import { attentionHook } from "./trace-hook.js";

export interface MultiHeadAttentionOptions {
  modelDim: number;
  numHeads: number;
  /** Key/value heads for grouped-query attention (default numHeads; 1 is multi-query). */
  numKvHeads?: number;
  /** Learned biases on the four projections (default true). */
  bias?: boolean;
  /** Causal self-attention by default in forward(). */
  isCausal?: boolean;
  /** Rotary embeddings on q and k (true, or the frequency base; default base 10000). */
  rope?: boolean | { base?: number };
  /** ALiBi distance penalties on the scores (Press et al.). */
  alibi?: boolean;
  /** Each query sees only the last W positions, itself included (implies causal). */
  slidingWindow?: number | null;
  /** Dropout on the attention weights while training. */
  dropout?: number;
  /** Draws the initial weights (and dropout masks unless dropoutRng is given). */
  rng?: Rng;
  dropoutRng?: Rng;
}

export interface AttentionForwardOptions {
  /** Keys and values come from this (B, S, C) sequence (cross-attention). */
  context?: Tensor;
  /** Bool, broadcastable to (B, H, T, S): true means "may attend". */
  mask?: Tensor | null;
  isCausal?: boolean;
  returnWeights?: boolean;
  /** Self-attention only: keys and values of earlier calls; this call's are appended to it. */
  cache?: KVCache;
  /** Which of the cache's layers is this module's (default 0). */
  layer?: number;
}

export class MultiHeadAttention extends Module {
  readonly wQ: Linear;
  readonly wK: Linear;
  readonly wV: Linear;
  readonly wO: Linear;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly #opts: MultiHeadAttentionOptions;
  readonly #rng: Rng;

  constructor(opts: MultiHeadAttentionOptions) {
    super();
    const { modelDim: C, numHeads: H } = opts;
    const G = opts.numKvHeads ?? H;
    const fn = "MultiHeadAttention";
    check(Number.isInteger(C) && C > 0 && Number.isInteger(H) && H > 0, fn, `expected positive integer modelDim and numHeads, got ${C}, ${H}`);
    check(C % H === 0, fn, `modelDim ${C} must be divisible by numHeads ${H}`);
    check(Number.isInteger(G) && G > 0 && H % G === 0, fn, `numHeads ${H} must be a multiple of numKvHeads ${G}`);
    this.numHeads = H;
    this.numKvHeads = G;
    this.headDim = C / H;
    this.#opts = opts;
    this.#rng = opts.dropoutRng ?? initRng(opts.rng);
    const lin = { bias: opts.bias ?? true, rng: opts.rng };
    this.wQ = new Linear(C, C, lin);
    this.wK = new Linear(C, G * this.headDim, lin);
    this.wV = new Linear(C, G * this.headDim, lin);
    this.wO = new Linear(C, C, lin);
  }

  /** x (B, T, C) -> (B, T, C); with returnWeights, also the weights (B, H, T, S). */
  forward(x: Tensor, opts: AttentionForwardOptions & { returnWeights: true }): AttentionResult;
  forward(x: Tensor, opts?: AttentionForwardOptions): Tensor;
  forward(x: Tensor, opts: AttentionForwardOptions = {}): Tensor | AttentionResult {
    const ctx = opts.context ?? x;
    const C = this.#opts.modelDim, H = this.numHeads, G = this.numKvHeads, D = this.headDim;
    check(x.ndim === 3 && x.shape[2] === C, "MultiHeadAttention.forward", () => `expected x (B, T, ${C}), got ${fmtShape(x.shape)}`);
    check(ctx.ndim === 3 && ctx.shape[2] === C && ctx.shape[0] === x.shape[0], "MultiHeadAttention.forward", () => `expected context (B, S, ${C}) with B=${x.shape[0]}, got ${fmtShape(ctx.shape)}`);
    const [B, T] = x.shape;
    const S = ctx.shape[1];
    const cache = opts.cache, layer = opts.layer ?? 0;
    check(cache === undefined || opts.context === undefined, "MultiHeadAttention.forward", "a KV cache works with self-attention only, not with a context");
    const offset = cache ? cache.length(layer) : 0; // absolute position of x's first token
    let q = transpose(reshape(this.wQ.forward(x), [B, T, H, D]), 1, 2); // (B, H, T, D)
    let k = transpose(reshape(this.wK.forward(ctx), [B, S, G, D]), 1, 2); // (B, G, S, D)
    let v = transpose(reshape(this.wV.forward(ctx), [B, S, G, D]), 1, 2); // (B, G, S, D)
    const rope = this.#opts.rope;
    if (rope) {
      const base = typeof rope === "object" ? rope.base : undefined;
      q = applyRope(q, offset, { base });
      k = applyRope(k, offset, { base });
    }
    if (cache) ({ k, v } = cache.append(layer, k, v)); // (B, G, offset + T, D)
    const sdpa = {
      mask: opts.mask,
      alibi: this.#opts.alibi ?? false,
      slidingWindow: this.#opts.slidingWindow ?? null,
      isCausal: opts.isCausal ?? this.#opts.isCausal ?? false,
      dropout: this.training ? (this.#opts.dropout ?? 0) : 0,
      rng: this.#rng,
    };
    let out: Tensor;
    let weights: Tensor | null = null;
    const hook = attentionHook(); // explain/ traces or ablates heads through this; null normally
    if (hook) ({ output: out, weights } = hook({ module: this, q, k, v, options: sdpa }));
    else if (opts.returnWeights) ({ output: out, weights } = scaledDotProductAttention(q, k, v, { ...sdpa, returnWeights: true }));
    else out = scaledDotProductAttention(q, k, v, sdpa);
    const merged = reshape(transpose(out, 1, 2), [B, T, C]); // (B, T, H*D)
    const y = this.wO.forward(merged);
    return opts.returnWeights && weights ? { output: y, weights } : y;
  }
}
