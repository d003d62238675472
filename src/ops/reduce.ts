// Reductions over axes: sum, mean, max (and argmax, which has no gradient).
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import type { ReduceOp } from "../backend/kernels.js";
import { isFloat, type Storage } from "../tensor/storage.js";
import { Tensor, type KeepDim } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { normalizeAxis, sizeOf } from "../util/shape.js";
import { cast } from "./cast.js";
import { div, eq, mul } from "./elementwise.js";
import { expand, reshape } from "./movement.js";

function normalizeAxes(fn: string, x: Tensor, axis: number | number[] | undefined): number[] {
  if (axis === undefined) return [...x.shape.keys()];
  const list = Array.isArray(axis) ? axis : [axis];
  const axes = [...new Set(list.map((a) => normalizeAxis(fn, a, x.ndim)))];
  return axes.sort((a, b) => a - b);
}

/** Reduces the given axes, keeping them as size 1. */
function reduceKeep(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  const dtype = isFloat(x.dtype) ? x.dtype : op === "sum" ? "int32" : x.dtype === "bool" ? "int32" : x.dtype;
  const d = device();
  let values: Storage = x.storage;
  const shape = [...x.shape];
  for (const ax of axes) {
    const outer = sizeOf(shape.slice(0, ax)), n = shape[ax], inner = sizeOf(shape.slice(ax + 1));
    check(op !== "max" || n > 0, "max", `cannot take the max over an empty axis ${ax} of shape (${x.shape.join(", ")})`);
    const out = d.alloc(dtype, outer * inner);
    d.reduce(op, out, values, outer, n, inner);
    values = out;
    shape[ax] = 1;
  }
  if (values !== x.storage) return new Tensor(values, shape);
  const copy = d.alloc(dtype, x.size); // no axes: a copy (in the result dtype)
  d.cast(copy, x.storage, x.size);
  return new Tensor(copy, shape);
}

function finish(y: Tensor, x: Tensor, axes: number[], keepdim: boolean): Tensor {
  return keepdim ? y : new Tensor(y.storage, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Sum over `axis` (all axes when omitted). */
export function sum(x: Tensor, axis?: number | number[], opts: KeepDim = {}): Tensor {
  const axes = normalizeAxes("sum", x, axis);
  const kept = reduceKeep("sum", x, axes);
  const y = finish(kept, x, axes, opts.keepdim ?? false);
  // d sum / dx = 1: broadcast the gradient back over the reduced axes
  return record(y, "sum", [x], (g) => [expand(reshape(g, kept.shape), x.shape)]);
}

/** Mean over `axis` (all axes when omitted). */
export function mean(x: Tensor, axis?: number | number[], opts: KeepDim = {}): Tensor {
  const axes = normalizeAxes("mean", x, axis);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const xf = isFloat(x.dtype) ? x : cast(x, "float32");
  return div(sum(xf, axes, opts), count);
}

/** Max over `axis`; ties share the gradient equally (as torch.amax). */
export function max(x: Tensor, axis?: number | number[], opts: KeepDim = {}): Tensor {
  const axes = normalizeAxes("max", x, axis);
  const kept = reduceKeep("max", x, axes);
  const y = finish(kept, x, axes, opts.keepdim ?? false);
  return record(y, "max", [x], (g) => {
    const hit = cast(eq(x, kept), x.dtype);
    const count = reduceKeep("sum", hit, axes);
    return [mul(hit, div(reshape(g, kept.shape), count))];
  });
}

/** Index of the largest value along `axis` (first on ties), as int32. */
export function argmax(x: Tensor, axis: number, opts: KeepDim = {}): Tensor {
  const ax = normalizeAxis("argmax", axis, x.ndim);
  const outer = sizeOf(x.shape.slice(0, ax)), n = x.shape[ax], inner = sizeOf(x.shape.slice(ax + 1));
  check(n > 0, "argmax", `cannot take the argmax over an empty axis ${ax}`);
  const d = device(), out = d.alloc("int32", outer * inner);
  d.argmax(out, x.storage, outer, n, inner);
  const shape = [...x.shape];
  shape[ax] = 1;
  return finish(new Tensor(out, shape), x, [ax], opts.keepdim ?? false);
}
