// dtype conversion and copies.
import { record } from "../autograd/graph.js";
import { allocArray, isFloat, type DType } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";

/** Converts to `dtype` (a copy); gradients flow between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  check(x instanceof Tensor, "cast", `expected a Tensor, got ${typeof x}`);
  if (x.dtype === dtype) return x;
  const out = allocArray(dtype, x.size);
  const src = x.values;
  if (dtype === "bool") for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  else if (dtype === "int32") for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]);
  else out.set(src);
  const y = Tensor.fromArray(out, x.shape, dtype);
  if (!isFloat(dtype) || !isFloat(x.dtype)) return y;
  return record(y, "cast", [x], (g) => [cast(g, x.dtype)]);
}

/** A copy with its own storage; gradients pass straight through. */
export function clone(x: Tensor): Tensor {
  const y = Tensor.fromArray(x.values.slice(), x.shape, x.dtype);
  return record(y, "clone", [x], (g) => [g]);
}
