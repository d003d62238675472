// Binary ops on contiguous float32 operands (and strided copies) as plain monomorphic loops: memory-bound, so copying
// into wasm memory would cost more than the op. Same arithmetic as the reference (f64, rounded on
// store), so results are identical. Returns false for the cases it does not cover.
import type { AnyArray, BinaryOp } from "../kernels.js";

/** 0 when strides are row-major contiguous for shape, 1 when all zero (a scalar), -1 otherwise. */
function layout(shape: readonly number[], strides: readonly number[]): number {
  let zero = true, contiguous = true, expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (strides[i] !== 0) zero = false;
    if (shape[i] !== 1 && strides[i] !== expect) contiguous = false;
    expect *= shape[i];
  }
  return contiguous ? 0 : zero ? 1 : -1;
}

/**
 * For b broadcast over leading axes and contiguous over the trailing ones (a bias row): the period
 * (product of the trailing dims); 0 when b is not of that form.
 */
function rowPeriod(shape: readonly number[], strides: readonly number[]): number {
  let i = shape.length - 1, expect = 1;
  while (i >= 0 && (strides[i] === expect || shape[i] === 1)) { if (shape[i] !== 1) expect *= shape[i]; i--; }
  for (; i >= 0; i--) if (strides[i] !== 0 && shape[i] !== 1) return 0;
  return expect;
}

export function binaryFast(op: BinaryOp, out: AnyArray, a: AnyArray, b: AnyArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): boolean {
  if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) return false;
  if (op !== "add" && op !== "sub" && op !== "mul" && op !== "div") return false;
  const la = layout(shape, aStrides), lb = layout(shape, bStrides);
  if (la !== 0) return false;
  let n = 1;
  for (const d of shape) n *= d;
  if (lb < 0) {
    const p = rowPeriod(shape, bStrides);
    if (p === 0 || n % p !== 0) return false;
    for (let o = 0; o < n; o += p) {
      switch (op) {
        case "add": for (let j = 0; j < p; j++) out[o + j] = a[o + j] + b[j]; break;
        case "sub": for (let j = 0; j < p; j++) out[o + j] = a[o + j] - b[j]; break;
        case "mul": for (let j = 0; j < p; j++) out[o + j] = a[o + j] * b[j]; break;
        case "div": for (let j = 0; j < p; j++) out[o + j] = a[o + j] / b[j]; break;
      }
    }
    return true;
  }
  if (lb === 1) {
    const s = b[0];
    switch (op) {
      case "add": for (let i = 0; i < n; i++) out[i] = a[i] + s; break;
      case "sub": for (let i = 0; i < n; i++) out[i] = a[i] - s; break;
      case "mul": for (let i = 0; i < n; i++) out[i] = a[i] * s; break;
      case "div": for (let i = 0; i < n; i++) out[i] = a[i] / s; break;
    }
    return true;
  }
  switch (op) {
    case "add": for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
    case "sub": for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
    case "mul": for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case "div": for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
  }
  return true;
}

/** copyStrided without a closure per element: an odometer over all axes but the last. */
export function copyFast(out: AnyArray, outOffset: number, outStrides: readonly number[], x: AnyArray, xOffset: number, xStrides: readonly number[], shape: readonly number[], accumulate: boolean): boolean {
  const rank = shape.length;
  if (rank === 0 || out.constructor !== x.constructor) return false;
  let total = 1;
  for (const d of shape) total *= d;
  if (total === 0) return true;
  const last = rank - 1, n = shape[last], so = outStrides[last], sx = xStrides[last];
  const idx = new Array<number>(rank).fill(0);
  let o = outOffset, i = xOffset;
  for (let done = 0; done < total; done += n) {
    if (accumulate) for (let j = 0; j < n; j++) out[o + j * so] += x[i + j * sx];
    else if (so === 1 && sx === 1) (out as Float32Array).set((x as Float32Array).subarray(i, i + n), o); // a memcpy (same array type)
    else for (let j = 0; j < n; j++) out[o + j * so] = x[i + j * sx];
    for (let ax = last - 1; ax >= 0; ax--) {
      idx[ax]++;
      o += outStrides[ax]; i += xStrides[ax];
      if (idx[ax] < shape[ax]) break;
      o -= outStrides[ax] * shape[ax]; i -= xStrides[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
  return true;
}
