// softmax and logSoftmax along an axis: fused row kernels, max-subtracted.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { normalizeAxis } from "../util/shape.js";
import { asFloat } from "./elementwise.js";
import { transpose } from "./movement.js";

type RowKernel = "softmax" | "logSoftmax";

function rowwise(kind: RowKernel, x: Tensor, axis: number): Tensor {
  check(x instanceof Tensor, kind, `expected a Tensor, got ${typeof x}`);
  check(x.ndim >= 1, kind, "expected a tensor of rank >= 1");
  const ax = normalizeAxis(kind, axis, x.ndim);
  // move the axis last, run on rows, move it back
  if (ax !== x.ndim - 1) return transpose(rowwise(kind, transpose(x, ax, -1), -1), ax, -1);
  const a = asFloat(x);
  const C = a.shape[a.ndim - 1], N = C === 0 ? 0 : a.size / C;
  const k = device(), out = k.alloc(a.dtype, a.size);
  if (kind === "softmax") k.softmaxForward(out, a.storage, N, C);
  else k.logSoftmaxForward(out, a.storage, N, C);
  return record(new Tensor(out, a.shape), kind, [a], (g) => {
    const dx = k.alloc(a.dtype, a.size);
    // softmax: dx = y (dy - sum(dy y)); logSoftmax: dx = dy - softmax(x) sum(dy)
    if (kind === "softmax") k.softmaxBackward(dx, out, asFloat(g).storage, N, C);
    else k.logSoftmaxBackward(dx, out, asFloat(g).storage, N, C);
    return [new Tensor(dx, a.shape)];
  });
}

/** softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x), along `axis` (last by default). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return rowwise("softmax", x, axis);
}

/** log softmax(x)_i = x_i - logsumexp(x), along `axis` (last by default). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return rowwise("logSoftmax", x, axis);
}
