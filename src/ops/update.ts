// In-place optimizer updates that have a kernel (so fast backends can run them). Not differentiable.
import { device } from "../backend/select.js";
import type { AdamParams } from "../backend/kernels.js";
import type { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { cast } from "./cast.js";

/** One Adam/AdamW step on `param` given its gradient and moment buffers (all the same size). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hyper: AdamParams): void {
  device().adamUpdate(param.storage, grad.storage, m.storage, v.storage, param.size, hyper);
}

/** dst += src elementwise, in place (same size and dtype): gradient accumulation on any backend. */
export function addInto(dst: Tensor, src: Tensor): void {
  check(dst.size === src.size && dst.dtype === src.dtype, "addInto", () => `expected equal sizes and dtypes, got ${fmtShape(dst.shape)} ${dst.dtype} and ${fmtShape(src.shape)} ${src.dtype}`);
  device().copyStrided(dst.storage, 0, [1], src.storage, 0, [1], [dst.size], true);
}

/** dst's values become src's (cast to dst's dtype), in place, on dst's backend; not recorded. */
export function assign(dst: Tensor, src: Tensor): void {
  check(dst.size === src.size, "assign", () => `sizes differ: ${fmtShape(dst.shape)} and ${fmtShape(src.shape)}`);
  if (dst.onHost && src.onHost) {
    dst.storage.write(src.values);
    return;
  }
  const from = src.dtype === dst.dtype ? src : cast(src, dst.dtype);
  device().copyStrided(dst.storage, 0, [1], from.storage, 0, [1], [dst.size], false);
}
