// Scaled dot-product attention: the fused kernel and its composite reference.
// Shape letters: B batch, H query heads, G key/value heads, T queries, S keys, D head dim, Dv value dim.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import type { AttentionDims } from "../backend/kernels.js";
import { isFloat } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { broadcastStrides } from "../util/shape.js";
import { alibiBias, slidingWindowMask } from "./alibi.js";
import { dropout as dropoutOp } from "./dropout.js";
import { add, eq, gt, logicalAnd, mul, unbroadcast, where } from "./elementwise.js";
import { matmul } from "./matmul.js";
import { expand, reshape, transpose } from "./movement.js";
import { sum } from "./reduce.js";
import { softmax } from "./softmax.js";

export interface AttentionOptions {
  /** Bool, broadcastable to (B, H, T, S): true means "may attend". */
  mask?: Tensor | null;
  /** Float, broadcastable to (B, H, T, S): added to the scaled scores (ALiBi, relative positions). */
  bias?: Tensor | null;
  /** Query t may attend key s iff s <= t + (S - T): bottom-right aligned, right for a KV cache. */
  isCausal?: boolean;
  /** Add ALiBi's per-head distance penalty m_h * (s - p) to the scores (see `alibiBias`). */
  alibi?: boolean;
  /** Query at position p sees only keys in (p - W, p]; implies causal. */
  slidingWindow?: number | null;
  /** Score scale; 1/sqrt(D) by default. */
  scale?: number;
  /** Dropout probability on the attention weights (needs rng); 0 by default. */
  dropout?: number;
  rng?: Rng;
  /** Also return the attention weights (B, H, T, S). */
  returnWeights?: boolean;
}

export interface AttentionResult {
  output: Tensor;
  /** Softmax weights (B, H, T, S); rows with no allowed key are zeros. Not differentiable. */
  weights: Tensor;
}

interface Checked {
  dims: AttentionDims;
  mask: Tensor | null;
  bias: Tensor | null;
}

/** Whether `shape` broadcasts to `full` without changing it (NumPy rules, trailing axes aligned). */
function broadcastsTo(shape: readonly number[], full: readonly number[]): boolean {
  const off = full.length - shape.length;
  return off >= 0 && shape.every((d, i) => d === 1 || d === full[i + off]);
}

/** Folds the alibi and slidingWindow options into bias and mask, so kernels see only those. */
function resolveVariants(fn: string, q: Tensor, k: Tensor, opts: AttentionOptions): AttentionOptions {
  const W = opts.slidingWindow ?? null;
  if (!opts.alibi && W === null) return opts;
  check(q instanceof Tensor && k instanceof Tensor && q.ndim === 4 && k.ndim === 4, fn, () => `expected Q (B, H, T, D) and K (B, G, S, D), got ${q instanceof Tensor ? fmtShape(q.shape) : typeof q}, ${k instanceof Tensor ? fmtShape(k.shape) : typeof k}`);
  const H = q.shape[1], T = q.shape[2], S = k.shape[2];
  let mask = opts.mask ?? null, bias = opts.bias ?? null;
  if (W !== null) {
    const window = slidingWindowMask(T, S, W); // (1, 1, T, S)
    mask = mask === null ? window : logicalAnd(mask, window);
  }
  if (opts.alibi) {
    const ab = alibiBias(H, T, S, q.dtype === "float64" ? "float64" : "float32"); // (1, H, T, S)
    bias = bias === null ? ab : add(bias, ab);
  }
  return { ...opts, mask, bias, alibi: false, slidingWindow: null, isCausal: opts.isCausal || W !== null };
}

function checkInputs(fn: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Checked {
  check(q instanceof Tensor && k instanceof Tensor && v instanceof Tensor, fn, "expected q, k and v Tensors");
  const shapes = () => `Q=${fmtShape(q.shape)}, K=${fmtShape(k.shape)}, V=${fmtShape(v.shape)}`;
  check(q.ndim === 4 && k.ndim === 4 && v.ndim === 4, fn, () => `expected Q (B, H, T, D), K (B, G, S, D), V (B, G, S, Dv), got ${shapes()}`);
  check(isFloat(q.dtype) && q.dtype === k.dtype && q.dtype === v.dtype, fn, `q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const [B, H, T, D] = q.shape;
  const [Bk, G, S, Dk] = k.shape;
  const [Bv, Gv, Sv, Dv] = v.shape;
  check(B === Bk && B === Bv, fn, () => `batch sizes must match, got ${shapes()}`);
  check(Dk === D, fn, () => `query and key head dims must match, got ${shapes()}`);
  check(G === Gv && S === Sv, fn, () => `key and value must share (B, G, S), got ${shapes()}`);
  check(G > 0 && H % G === 0, fn, () => `query heads H=${H} must be a multiple of key/value heads G=${G}, got ${shapes()}`);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  check(Number.isFinite(scale), fn, `scale must be a finite number, got ${scale}`);
  const full = [B, H, T, S];
  const mask = opts.mask ?? null, bias = opts.bias ?? null;
  if (mask !== null) {
    check(mask instanceof Tensor && mask.dtype === "bool", fn, () => `expected a bool mask (true = may attend), got ${mask instanceof Tensor ? mask.dtype : typeof mask}; for additive scores use the bias option`);
    check(broadcastsTo(mask.shape, full), fn, () => `mask ${fmtShape(mask.shape)} does not broadcast to (B, H, T, S) = ${fmtShape(full)}`);
  }
  if (bias !== null) {
    check(bias instanceof Tensor && bias.dtype === q.dtype, fn, () => `bias must be a ${q.dtype} tensor, got ${bias instanceof Tensor ? bias.dtype : typeof bias}`);
    check(broadcastsTo(bias.shape, full), fn, () => `bias ${fmtShape(bias.shape)} does not broadcast to (B, H, T, S) = ${fmtShape(full)}`);
  }
  const dims: AttentionDims = {
    B, H, G, T, S, D, Dv, scale,
    causalOffset: opts.isCausal ? S - T : null,
    maskStrides: mask && broadcastStrides(mask.shape, full),
    biasStrides: bias && broadcastStrides(bias.shape, full),
  };
  return { dims, mask, bias };
}

/**
 * Scaled dot-product attention: softmax(Q K^T * scale + bias, masked) V, per head.
 *
 * q (B, H, T, D), k (B, G, S, D), v (B, G, S, Dv) -> (B, H, T, Dv). Query head h reads key/value
 * head floor(h / (H / G)) (GQA; G = 1 is multi-query). A query row with no allowed key (or whose
 * biased scores are all -inf) outputs zeros and gets zero gradient; NaN scores propagate.
 * Equivalent to `attentionReference`, which spells it out in ops.
 * Options `alibi` and `slidingWindow` become an extra bias and mask with queries at absolute
 * positions p = t + S - T (the end of the keys), so they work unchanged with a KV cache.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { returnWeights: true }): AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor | AttentionResult {
  const opts = resolveVariants("scaledDotProductAttention", q, k, options);
  const { dims, mask, bias } = checkInputs("scaledDotProductAttention", q, k, v, opts);
  if ((opts.dropout ?? 0) > 0) return attentionReference(q, k, v, opts);
  const { B, H, T, S, Dv } = dims;
  const dtype = q.dtype;
  const d = device();
  const out = d.alloc(dtype, B * H * T * Dv);
  const lse = d.alloc(dtype, B * H * T);
  const weights = opts.returnWeights ? d.alloc(dtype, B * H * T * S) : null;
  const maskv = mask ? mask.storage : null, biasv = bias ? bias.storage : null;
  d.attentionForward(out, lse, weights, q.storage, k.storage, v.storage, maskv, biasv, dims);
  const inputs = bias ? [q, k, v, bias] : [q, k, v];
  const output = record(new Tensor(out, [B, H, T, Dv]), "scaledDotProductAttention", inputs, (g) => {
    const dq = d.alloc(dtype, q.size), dk = d.alloc(dtype, k.size), dv = d.alloc(dtype, v.size);
    const dbias = bias?.requiresGrad ? d.alloc(dtype, B * H * T * S) : null;
    d.attentionBackward(dq, dk, dv, dbias, g.storage, q.storage, k.storage, v.storage, out, lse, maskv, biasv, dims);
    const grads: (Tensor | null)[] = [new Tensor(dq, q.shape), new Tensor(dk, k.shape), new Tensor(dv, v.shape)];
    if (bias) grads.push(dbias && unbroadcast(new Tensor(dbias, [B, H, T, S]), bias.shape));
    return grads;
  });
  if (!opts.returnWeights) return output;
  return { output, weights: new Tensor(weights!, [B, H, T, S]) };
}

/** The bool (1|B, 1|H, T, S) "may attend" mask that the options describe, or null for all-true. */
export function allowedMask(T: number, S: number, opts: Pick<AttentionOptions, "mask" | "isCausal">): Tensor | null {
  let allowed: Tensor | null = opts.mask ?? null;
  if (opts.isCausal) {
    const causal = new Uint8Array(T * S);
    for (let t = 0; t < T; t++) for (let s = 0; s <= Math.min(S - 1, t + S - T); s++) causal[t * S + s] = 1;
    const c = Tensor.fromArray(causal, [1, 1, T, S], "bool");
    allowed = allowed === null ? c : logicalAnd(allowed, c);
  }
  return allowed;
}

/**
 * The composite definition of attention in plain ops (the PyTorch docs' "equivalent
 * implementation" with a bottom-right causal mask). Slower and O(T*S) memory; tests compare it
 * with the fused kernel, and dropout runs through it.
 */
export function attentionReference(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor | AttentionResult {
  const opts = resolveVariants("attentionReference", q, k, options);
  const { dims, bias } = checkInputs("attentionReference", q, k, v, opts);
  const { B, H, G, T, S, D, Dv, scale } = dims;
  // repeat each key/value head for its H/G query heads: (B, G, S, D) -> (B, H, S, D)
  const rep = (x: Tensor, d: number) => reshape(expand(reshape(x, [B, G, 1, S, d]), [B, G, H / G, S, d]), [B, H, S, d]);
  let scores = mul(matmul(q, transpose(rep(k, D), -2, -1)), scale); // (B, H, T, S)
  if (bias) scores = add(scores, bias);
  const allowed = allowedMask(T, S, opts);
  const masked = allowed === null ? scores : where(allowed, scores, -Infinity);
  // a row whose scores are all -inf (no allowed key, or a -inf bias) gets zero weights, not NaN
  // (PyTorch's _safe_softmax); it is zeroed before the softmax so no NaN reaches the backward
  const rowHasKey = gt(sum(where(eq(masked, -Infinity), 0, 1), -1, { keepdim: true }), 0); // (B, H, T, 1)
  const weights = where(rowHasKey, softmax(where(rowHasKey, masked, 0), -1), 0);
  const p = opts.dropout ?? 0;
  const dropped = p > 0 ? dropoutOp(weights, { p, training: true, rng: opts.rng as Rng }) : weights;
  const output = matmul(dropped, rep(v, Dv)); // (B, H, T, Dv)
  return opts.returnWeights ? { output, weights } : output;
}
