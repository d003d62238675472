// dtype conversion and copies.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { isFloat, type DType } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";

/** Converts to `dtype` (a copy); gradients flow between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  check(x instanceof Tensor, "cast", `expected a Tensor, got ${typeof x}`);
  if (x.dtype === dtype) return x;
  const d = device(), out = d.alloc(dtype, x.size);
  d.cast(out, x.storage, x.size);
  const y = new Tensor(out, x.shape);
  if (!isFloat(dtype) || !isFloat(x.dtype)) return y;
  return record(y, "cast", [x], (g) => [cast(g, x.dtype)]);
}

/** A copy with its own storage; gradients pass straight through. */
export function clone(x: Tensor): Tensor {
  const d = device(), out = d.alloc(x.dtype, x.size);
  d.copyStrided(out, 0, [1], x.storage, 0, [1], [x.size], false);
  const y = new Tensor(out, x.shape);
  return record(y, "clone", [x], (g) => [g]);
}
