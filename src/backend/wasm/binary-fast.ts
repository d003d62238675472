// Binary ops on contiguous float32 operands as plain monomorphic loops: memory-bound, so copying
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

export function binaryFast(op: BinaryOp, out: AnyArray, a: AnyArray, b: AnyArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): boolean {
  if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) return false;
  if (op !== "add" && op !== "sub" && op !== "mul" && op !== "div") return false;
  const la = layout(shape, aStrides), lb = layout(shape, bStrides);
  if (la !== 0 || lb < 0) return false;
  let n = 1;
  for (const d of shape) n *= d;
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
