// Layer normalization over the last axis (Ba, Kiros and Hinton 2016), fused kernel with saved statistics.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
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
  const d = device(), out = d.alloc(a.dtype, a.size);
  const mean = d.alloc(a.dtype, N), rstd = d.alloc(a.dtype, N);
  const w = weight ? weight.storage : null, b = bias ? bias.storage : null;
  d.layerNormForward(out, mean, rstd, a.storage, w, b, N, C, eps);
  const inputs = [a, weight, bias].filter((t): t is Tensor => t !== null);
  return record(new Tensor(out, a.shape), "layerNorm", inputs, (g) => {
    const dx = d.alloc(a.dtype, a.size);
    const dw = weight ? d.alloc(a.dtype, C) : null;
    const db = bias ? d.alloc(a.dtype, C) : null;
    d.layerNormBackward(dx, dw, db, asFloat(g).storage, a.storage, mean, rstd, w, N, C);
    const grads: Tensor[] = [new Tensor(dx, a.shape)];
    if (dw) grads.push(new Tensor(dw, [C]));
    if (db) grads.push(new Tensor(db, [C]));
    return grads;
  });
}
