// Creating tensors: from nested arrays or typed arrays, constants, ranges and seeded random draws.
// They are placed on the current backend (uploaded when it is webgpu), like torch's default device.
import { check, fmtShape } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { checkShape, sizeOf, type Shape } from "../util/shape.js";
import { allocArray, type AnyArray, type DType } from "./storage.js";
import { Tensor } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export type NestedValues = number | boolean | readonly NestedValues[];

function inferShape(values: NestedValues): number[] {
  const shape: number[] = [];
  let v: NestedValues = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedValues;
  }
  return shape;
}

function flatten(values: NestedValues, out: number[], shape: readonly number[], depth: number): void {
  if (depth === shape.length) {
    check(typeof values === "number" || typeof values === "boolean", "tensor", () => `ragged nested array: expected a number at depth ${depth}`);
    out.push(Number(values));
    return;
  }
  check(Array.isArray(values) && values.length === shape[depth], "tensor", () => `ragged nested array: expected length ${shape[depth]} at depth ${depth}`);
  for (const v of values as readonly NestedValues[]) flatten(v, out, shape, depth + 1);
}

/**
 * Makes a tensor from a number, a nested array, a flat array or a typed array (copied).
 * `shape` is inferred from nesting when not given; dtype defaults to float32 (bool for booleans).
 */
export function tensor(values: NestedValues | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  let dtype = opts.dtype;
  if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
    if (dtype === undefined) dtype = values instanceof Float64Array ? "float64" : values instanceof Int32Array ? "int32" : values instanceof Uint8Array ? "bool" : "float32";
  } else {
    const nested = values as NestedValues;
    inferred = inferShape(nested);
    const out: number[] = [];
    flatten(nested, out, inferred, 0);
    flat = out;
    if (dtype === undefined) {
      let first: NestedValues = nested;
      while (Array.isArray(first)) first = first[0] as NestedValues;
      dtype = typeof first === "boolean" ? "bool" : "float32";
    }
  }
  const finalShape = shape ?? inferred;
  checkShape("tensor", finalShape);
  check(sizeOf(finalShape) === flat.length, "tensor", () => `${flat.length} values do not fit shape ${fmtShape(finalShape)}`);
  const array = allocArray(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) array[i] = flat[i];
  return Tensor.onBackend(array, finalShape, dtype, opts.requiresGrad ?? false);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape("full", shape);
  const dtype = opts.dtype ?? "float32";
  const array: AnyArray = allocArray(dtype, sizeOf(shape));
  if (value !== 0) array.fill(value);
  return Tensor.onBackend(array, shape, dtype, opts.requiresGrad ?? false);
}

export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Values start, start+step, ... below end (NumPy's arange); dtype int32 unless a float is asked for. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  check(step !== 0 && Number.isFinite(step), "arange", `step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const dtype = opts.dtype ?? (Number.isInteger(lo) && Number.isInteger(step) ? "int32" : "float32");
  const array = allocArray(dtype, n);
  for (let i = 0; i < n; i++) array[i] = lo + i * step;
  return Tensor.onBackend(array, [n], dtype, opts.requiresGrad ?? false);
}

export interface RandomOptions extends CreateOptions {
  mean?: number;
  std?: number;
}

/** Normal draws from the explicit generator `rng` (qkv never calls Math.random). */
export function randn(shape: Shape, rng: Rng, opts: RandomOptions = {}): Tensor {
  checkShape("randn", shape);
  check(rng !== undefined && typeof rng.normal === "function", "randn", "expected a seeded Rng as the second argument");
  const dtype = opts.dtype ?? "float32";
  const array = allocArray(dtype, sizeOf(shape));
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  for (let i = 0; i < array.length; i++) array[i] = mean + std * rng.normal();
  return Tensor.onBackend(array, shape, dtype, opts.requiresGrad ?? false);
}

/** Uniform draws in [low, high) from the explicit generator `rng`. */
export function rand(shape: Shape, rng: Rng, opts: CreateOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape("rand", shape);
  check(rng !== undefined && typeof rng.next === "function", "rand", "expected a seeded Rng as the second argument");
  const dtype = opts.dtype ?? "float32";
  const array = allocArray(dtype, sizeOf(shape));
  const low = opts.low ?? 0, high = opts.high ?? 1;
  for (let i = 0; i < array.length; i++) array[i] = low + (high - low) * rng.next();
  return Tensor.onBackend(array, shape, dtype, opts.requiresGrad ?? false);
}
