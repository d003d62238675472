// Layer normalization over the last axis (Ba, Kiros and Hinton 2016), fused kernel with saved statistics.
import { record } from "../autograd/graph.js";
import { kernels } from "../backend/select.js";
import type { FloatArray } from "../backend/kernels.js";
import { allocArray } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { asFloat } from "./elementwise.js";

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis C (biased variance, as
 * torch.nn.functional.layer_norm). weight and bias are (C) or null.
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  check(x instanceof Tensor && x.ndim >= 1, "layerNorm", "expected a Tensor of rank >= 1");
  const a = asFloat(x);
  const C = a.shape[a.ndim - 1], N = C === 0 ? 0 : a.size / C;
  for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
    check(p === null || (p.ndim === 1 && p.shape[0] === C && p.dtype === a.dtype), "layerNorm", () => `${name} must be (${C},) ${a.dtype} for input ${fmtShape(a.shape)}, got ${p && fmtShape(p.shape)} ${p?.dtype}`);
  }
  const out = allocArray(a.dtype, a.size) as FloatArray;
  const mean = allocArray(a.dtype, N) as FloatArray, rstd = allocArray(a.dtype, N) as FloatArray;
  const w = weight ? (weight.values as FloatArray) : null, b = bias ? (bias.values as FloatArray) : null;
  kernels().layerNormForward(out, mean, rstd, a.values as FloatArray, w, b, N, C, eps);
  const inputs = [a, weight, bias].filter((t): t is Tensor => t !== null);
  return record(Tensor.fromArray(out, a.shape, a.dtype), "layerNorm", inputs, (g) => {
    const dx = allocArray(a.dtype, a.size) as FloatArray;
    const dw = weight ? (allocArray(a.dtype, C) as FloatArray) : null;
    const db = bias ? (allocArray(a.dtype, C) as FloatArray) : null;
    kernels().layerNormBackward(dx, dw, db, asFloat(g).values as FloatArray, a.values as FloatArray, mean, rstd, w, N, C);
    const grads: Tensor[] = [Tensor.fromArray(dx, a.shape, a.dtype)];
    if (dw) grads.push(Tensor.fromArray(dw, [C], a.dtype));
    if (db) grads.push(Tensor.fromArray(db, [C], a.dtype));
    return grads;
  });
}
