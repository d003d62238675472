// In-place optimizer updates that have a kernel (so fast backends can run them). Not differentiable.
import { kernels } from "../backend/select.js";
import type { AdamParams, FloatArray } from "../backend/kernels.js";
import type { Tensor } from "../tensor/tensor.js";

/** One Adam/AdamW step on `param` given its gradient and moment buffers (all the same size). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: AdamParams): void {
  kernels().adamUpdate(param.values as FloatArray, grad.values as FloatArray, m.values as FloatArray, v.values as FloatArray, param.size, hyper);
}
