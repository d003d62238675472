// Cross-entropy over class logits: a fused log-softmax + negative log-likelihood kernel.
import { record } from "../autograd/graph.js";
import { kernels } from "../backend/select.js";
import type { FloatArray } from "../backend/kernels.js";
import { allocArray } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { asFloat } from "./elementwise.js";

export interface CrossEntropyOptions {
  /** Targets equal to this contribute no loss and no gradient (PyTorch's default -100). */
  ignoreIndex?: number;
  /** 'mean' over non-ignored targets (default), 'sum', or 'none' for per-target losses. */
  reduction?: "mean" | "sum" | "none";
}

/**
 * loss_n = logsumexp(logits_n) - logits_n[target_n], for logits (..., V) and int32 targets (...).
 * As torch.nn.functional.cross_entropy with class-index targets.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? "mean";
  check(logits instanceof Tensor && targets instanceof Tensor, "crossEntropy", "expected logits and targets Tensors");
  check(logits.ndim >= 1, "crossEntropy", "logits must have a class axis");
  const V = logits.shape[logits.ndim - 1];
  check(targets.dtype === "int32", "crossEntropy", `targets must be int32 class indices, got ${targets.dtype}`);
  check(targets.ndim === logits.ndim - 1 && targets.shape.every((d, i) => d === logits.shape[i]), "crossEntropy", () => `targets ${fmtShape(targets.shape)} must match logits ${fmtShape(logits.shape)} without the class axis`);
  const t = targets.values as Int32Array;
  let count = 0;
  for (let i = 0; i < t.length; i++) {
    check(t[i] === ignoreIndex || (t[i] >= 0 && t[i] < V), "crossEntropy", () => `target ${t[i]} at index ${i} is out of range [0, ${V})`);
    if (t[i] !== ignoreIndex) count++;
  }
  const x = asFloat(logits);
  const N = t.length;
  const losses = allocArray(x.dtype, N) as FloatArray;
  kernels().crossEntropyForward(losses, x.values as FloatArray, t, N, V, ignoreIndex);
  let total = 0;
  for (let i = 0; i < N; i++) total += losses[i];
  const scale = reduction === "mean" ? 1 / count : 1; // mean with every target ignored is NaN, as PyTorch
  const out = reduction === "none" ? Tensor.fromArray(losses, targets.shape, x.dtype) : Tensor.fromArray(allocArray(x.dtype, 1).fill(total * scale) as FloatArray, [], x.dtype);
  return record(out, "crossEntropy", [x], (g) => {
    const gv = asFloat(g).values;
    const dlosses = allocArray(x.dtype, N) as FloatArray;
    for (let i = 0; i < N; i++) dlosses[i] = reduction === "none" ? gv[i] : gv[0] * scale;
    const dx = allocArray(x.dtype, x.size) as FloatArray;
    kernels().crossEntropyBackward(dx, dlosses, x.values as FloatArray, t, N, V, ignoreIndex);
    return [Tensor.fromArray(dx, x.shape, x.dtype)];
  });
}
