// Cross-entropy over class logits: a fused log-softmax + negative log-likelihood kernel.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { cast } from "./cast.js";
import { asFloat, div, eq, logicalNot } from "./elementwise.js";
import { sum } from "./reduce.js";

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
  const x = asFloat(logits);
  const N = targets.size;
  // targets in host memory are checked here; on the GPU they cannot be read synchronously, and the
  // kernel gives an out-of-range target a NaN loss instead
  let count: number | Tensor;
  if (targets.onHost) {
    const t = targets.values as Int32Array;
    count = 0;
    for (let i = 0; i < t.length; i++) {
      check(t[i] === ignoreIndex || (t[i] >= 0 && t[i] < V), "crossEntropy", () => `target ${t[i]} at index ${i} is out of range [0, ${V})`);
      if (t[i] !== ignoreIndex) count++;
    }
  } else count = sum(cast(logicalNot(eq(targets, ignoreIndex)), x.dtype));
  const d = device(), losses = d.alloc(x.dtype, N);
  d.crossEntropyForward(losses, x.storage, targets.storage, N, V, ignoreIndex);
  const perTarget = record(new Tensor(losses, targets.shape), "crossEntropy", [x], (g) => {
    const dx = d.alloc(x.dtype, x.size);
    d.crossEntropyBackward(dx, asFloat(g).storage, x.storage, targets.storage, N, V, ignoreIndex);
    return [new Tensor(dx, x.shape)];
  });
  if (reduction === "none") return perTarget;
  // mean with every target ignored is 0 / 0 = NaN, as PyTorch
  return reduction === "sum" ? sum(perTarget) : div(sum(perTarget), count);
}
