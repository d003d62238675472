// Movement ops: reshape (shares storage), permute, transpose, slice, concat, expand, squeeze, unsqueeze.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { broadcastStrides, checkShape, normalizeAxis, shapesEqual, sizeOf, stridesOf, type Shape } from "../util/shape.js";
import { unbroadcast } from "./elementwise.js";

/** Same values, new shape (one entry may be -1). Shares storage, like a contiguous torch view. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = shape.indexOf(-1);
  let target = [...shape];
  if (inferred >= 0) {
    const rest = sizeOf(shape.filter((_, i) => i !== inferred));
    check(rest > 0 && x.size % rest === 0 && shape.lastIndexOf(-1) === inferred, "reshape", () => `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    target[inferred] = x.size / rest;
  }
  checkShape("reshape", target);
  check(sizeOf(target) === x.size, "reshape", () => `cannot reshape ${fmtShape(x.shape)} (${x.size} values) to ${fmtShape(shape)}`);
  if (shapesEqual(target, x.shape)) return x;
  const y = new Tensor(x.storage, target);
  return record(y, "reshape", [x], (g) => [reshape(g, x.shape)]);
}

/** Reorders axes: output axis i is input axis order[i]. */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  check(order.length === x.ndim && new Set(order.map((a) => normalizeAxis("permute", a, x.ndim))).size === x.ndim, "permute", () => `expected a permutation of ${x.ndim} axes, got [${order.join(", ")}] for shape ${fmtShape(x.shape)}`);
  const axes = order.map((a) => normalizeAxis("permute", a, x.ndim));
  if (axes.every((a, i) => a === i)) return x;
  const shape = axes.map((a) => x.shape[a]);
  const inStrides = stridesOf(x.shape);
  const d = device(), out = d.alloc(x.dtype, x.size);
  d.copyStrided(out, 0, stridesOf(shape), x.storage, 0, axes.map((a) => inStrides[a]), shape, false);
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => (inverse[a] = i));
  return record(new Tensor(out, shape), "permute", [x], (g) => [permute(g, inverse)]);
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const order = [...x.shape.keys()];
  const i = normalizeAxis("transpose", a, x.ndim), j = normalizeAxis("transpose", b, x.ndim);
  [order[i], order[j]] = [order[j], order[i]];
  return permute(x, order);
}

/** Elements start..end-1 along `axis` (negative indices count from the end, as in Python). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normalizeAxis("slice", axis, x.ndim);
  const n = x.shape[ax];
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const lo = clamp(start), hi = Math.max(lo, clamp(end ?? n));
  check(Number.isInteger(start) && (end === undefined || Number.isInteger(end)), "slice", `start and end must be integers, got ${start}, ${end}`);
  if (lo === 0 && hi === n) return x;
  const shape = [...x.shape];
  shape[ax] = hi - lo;
  const strides = stridesOf(x.shape);
  const d = device(), out = d.alloc(x.dtype, sizeOf(shape));
  d.copyStrided(out, 0, stridesOf(shape), x.storage, lo * strides[ax], strides, shape, false);
  return record(new Tensor(out, shape), "slice", [x], (g) => {
    const dx = d.alloc(g.dtype, x.size);
    d.copyStrided(dx, lo * strides[ax], strides, g.storage, 0, stridesOf(shape), shape, true);
    return [new Tensor(dx, x.shape)];
  });
}

/** Joins tensors along `axis`; all other axes must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  check(xs.length > 0, "concat", "expected at least one tensor");
  const first = xs[0];
  const ax = normalizeAxis("concat", axis, first.ndim);
  for (const t of xs) {
    check(t.ndim === first.ndim && t.shape.every((d, i) => i === ax || d === first.shape[i]) && t.dtype === first.dtype, "concat", () => `shapes must match except on axis ${ax} and dtypes must agree, got ${xs.map((u) => `${fmtShape(u.shape)} ${u.dtype}`).join(", ")}`);
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
  const outStrides = stridesOf(shape);
  const d = device(), out = d.alloc(first.dtype, sizeOf(shape));
  let offset = 0;
  for (const t of xs) {
    d.copyStrided(out, offset * outStrides[ax], outStrides, t.storage, 0, stridesOf(t.shape), t.shape, false);
    offset += t.shape[ax];
  }
  return record(new Tensor(out, shape), "concat", xs, (g) => {
    let at = 0;
    return xs.map((t) => {
      const part = slice(g, ax, at, at + t.shape[ax]);
      at += t.shape[ax];
      return part;
    });
  });
}

/** Broadcasts x to `shape` (a copy); the gradient sums over the broadcast axes. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkShape("expand", shape);
  const off = shape.length - x.ndim;
  check(off >= 0 && x.shape.every((d, i) => d === 1 || d === shape[i + off]), "expand", () => `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (shapesEqual(x.shape, shape)) return x;
  const d = device(), out = d.alloc(x.dtype, sizeOf(shape));
  d.copyStrided(out, 0, stridesOf(shape), x.storage, 0, broadcastStrides(x.shape, shape), shape, false);
  return record(new Tensor(out, shape), "expand", [x], (g) => [unbroadcast(g, x.shape)]);
}

/** Removes a size-1 axis. */
export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis("squeeze", axis, x.ndim);
  check(x.shape[ax] === 1, "squeeze", () => `axis ${axis} of ${fmtShape(x.shape)} has size ${x.shape[ax]}, expected 1`);
  return reshape(x, x.shape.filter((_, i) => i !== ax));
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis("unsqueeze", axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}
