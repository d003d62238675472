// Attention traces: run any qkv model with a hook on every MultiHeadAttention call and keep, per
// call (layer) and head, Q, K, V, raw scores, the mask, the softmax weights and the head output.
// Shape letters: B batch, H query heads, G key/value heads, T queries, S keys, D head dim.
import { noGrad } from "../autograd/no-grad.js";
import { allowedMask, attentionReference, scaledDotProductAttention, type AttentionOptions, type AttentionResult } from "../ops/attention.js";
import { alibiBias, slidingWindowMask } from "../ops/alibi.js";
import { add, logicalAnd, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/matmul.js";
import { expand, reshape, transpose } from "../ops/movement.js";
import { setAttentionHook, type AttentionCall } from "../nn/trace-hook.js";
import { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/create.js";
import { check } from "../util/assert.js";
import { broadcastStrides } from "../util/shape.js";

/** What one MultiHeadAttention call computed. Tensors are detached copies owned by the trace. */
export interface LayerTrace {
  /** Call order within the traced run: layer l of a stack of blocks. */
  index: number;
  module: object;
  B: number; H: number; G: number; T: number; S: number; D: number; Dv: number;
  q: Tensor; // (B, H, T, D)
  k: Tensor; // (B, G, S, D)
  v: Tensor; // (B, G, S, Dv)
  /** q k^T * scale (+ bias) before masking. */
  scores: Tensor; // (B, H, T, S)
  /** 1 where query t may attend key s (the mask and the causal rule combined). */
  mask: Uint8Array; // (B, H, T, S)
  weights: Tensor; // (B, H, T, S)
  /** Per-head output before W^O: weights V. */
  headOutput: Tensor; // (B, H, T, Dv)
  /** d(gradOf(result)) / d(weights), when TraceOptions.gradOf is given. */
  weightsGrad: Tensor | null; // (B, H, T, S)
}

export interface HeadRef {
  layer: number;
  head: number;
}

export interface TraceOptions<R> {
  /**
   * A scalar of the run's result to differentiate with respect to every attention weight. The
   * traced run then computes attention with the composite reference (outputs agree with the fused
   * kernel to float rounding, not bit for bit) and calls backward(): parameter .grad fields
   * accumulate, so zero them afterwards if you train.
   */
  gradOf?: (result: R) => Tensor;
  /** Heads whose output is set to zero before W^O (head ablation). */
  ablate?: readonly HeadRef[];
}

export interface Trace<R> {
  result: R;
  layers: LayerTrace[];
}

/** Repeats each key/value head for its H/G query heads: (B, G, S, d) -> (B, H, S, d). */
function repeatKv(x: Tensor, H: number): Tensor {
  const [B, G, S, d] = x.shape;
  return G === H ? x : reshape(expand(reshape(x, [B, G, 1, S, d]), [B, G, H / G, S, d]), [B, H, S, d]);
}

/** ALiBi and sliding windows as the bias and mask they stand for (as scaledDotProductAttention does). */
function resolveVariants(o: AttentionOptions, H: number, T: number, S: number, dtype: "float32" | "float64"): AttentionOptions {
  const W = o.slidingWindow ?? null;
  let mask = o.mask ?? null, bias = o.bias ?? null;
  if (W !== null) mask = mask === null ? slidingWindowMask(T, S, W) : logicalAnd(mask, slidingWindowMask(T, S, W));
  if (o.alibi) bias = bias === null ? alibiBias(H, T, S, dtype) : add(bias, alibiBias(H, T, S, dtype));
  return { ...o, mask, bias, alibi: false, slidingWindow: null, isCausal: o.isCausal || W !== null };
}

/** The (B, H, T, S) 0/1 "may attend" array for a call. */
function fullMask(options: AttentionOptions, B: number, H: number, T: number, S: number): Uint8Array {
  const out = new Uint8Array(B * H * T * S).fill(1);
  const allowed = allowedMask(T, S, options);
  if (allowed === null) return out;
  const st = broadcastStrides(allowed.shape, [B, H, T, S]);
  const a = allowed.values;
  let i = 0;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let s = 0; s < S; s++, i++) {
    out[i] = a[b * st[0] + h * st[1] + t * st[2] + s * st[3]] ? 1 : 0;
  }
  return out;
}

const copy = (x: Tensor) => Tensor.fromArray(x.values.slice(), x.shape, x.dtype);

/**
 * Runs `run` with tracing on and returns its result with one LayerTrace per attention call, in
 * call order. Without gradOf or ablate the result is bit-identical to an untraced run: the
 * hook calls the same fused kernel, asking it for the weights as well.
 */
export function traceAttention<R>(run: () => R, opts: TraceOptions<R> = {}): Trace<R> {
  const layers: LayerTrace[] = [];
  const probes: Tensor[] = [];
  const ablate = opts.ablate ?? [];
  const prev = setAttentionHook((call: AttentionCall): AttentionResult => {
    const { q, k, v, options } = call;
    const [B, H, T, D] = q.shape;
    const [, G, S] = k.shape;
    const Dv = v.shape[3];
    let res: AttentionResult;
    if (opts.gradOf) {
      // weights + probe (a zero leaf) feeds the output, so probe.grad = dL/dweights
      const ref = attentionReference(q, k, v, { ...options, dropout: 0, returnWeights: true }) as AttentionResult;
      const probe = zeros([B, H, T, S], { dtype: q.dtype, requiresGrad: true });
      probes.push(probe);
      res = { output: matmul(add(ref.weights, probe), repeatKv(v, H)), weights: ref.weights };
    } else {
      res = scaledDotProductAttention(q, k, v, { ...options, returnWeights: true });
    }
    const index = layers.length;
    const drop = ablate.filter((r) => r.layer === index);
    if (drop.length > 0) {
      const keep = new Float32Array(H).fill(1);
      for (const r of drop) {
        check(Number.isInteger(r.head) && r.head >= 0 && r.head < H, "traceAttention", `ablate: layer ${index} has heads 0..${H - 1}, got head ${r.head}`);
        keep[r.head] = 0;
      }
      res = { output: mul(res.output, Tensor.fromArray(keep, [1, H, 1, 1], "float32").to(q.dtype)), weights: res.weights };
    }
    noGrad(() => {
      const o = resolveVariants(options, H, T, S, q.dtype === "float64" ? "float64" : "float32");
      const scale = o.scale ?? 1 / Math.sqrt(D);
      let scores = mul(matmul(q, transpose(repeatKv(k, H), -2, -1)), scale); // (B, H, T, S)
      if (o.bias) scores = add(scores, o.bias);
      layers.push({
        index, module: call.module, B, H, G, T, S, D, Dv,
        q: copy(q), k: copy(k), v: copy(v), scores: copy(scores),
        mask: fullMask(o, B, H, T, S),
        weights: copy(res.weights), headOutput: copy(res.output), weightsGrad: null,
      });
    });
    return res;
  });
  let result: R;
  try {
    result = run();
  } finally {
    setAttentionHook(prev);
  }
  for (const r of ablate) check(r.layer >= 0 && r.layer < layers.length, "traceAttention", `ablate: the run made ${layers.length} attention calls, got layer ${r.layer}`);
  if (opts.gradOf) {
    const y = opts.gradOf(result);
    check(y instanceof Tensor && y.size === 1, "traceAttention", `gradOf must return a scalar tensor, got shape (${y?.shape})`);
    y.backward();
    layers.forEach((l, i) => (l.weightsGrad = probes[i].grad ? copy(probes[i].grad as Tensor) : zeros(l.weights.shape)));
  }
  return { result, layers };
}

/** Runs `run` with the given heads' outputs zeroed (other heads are untouched, bit for bit). */
export function ablateHeads<R>(run: () => R, heads: readonly HeadRef[]): R {
  return traceAttention(run, { ablate: heads }).result;
}

/** The (T, S) weights of one head as a view (no copy). */
export function headWeights(layer: LayerTrace, head: number, batch = 0): Float32Array | Float64Array {
  const n = layer.T * layer.S;
  const w = layer.weights.values as Float32Array | Float64Array;
  return w.subarray((batch * layer.H + head) * n, (batch * layer.H + head + 1) * n);
}
