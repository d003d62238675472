// Reference elementwise kernels: plain loops. Every other backend must match these.
import type { AnyArray, BinaryOp, FloatArray, UnaryOp } from "../kernels.js";

const GELU_C = Math.sqrt(2 / Math.PI);

function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case "neg": return (x) => -x;
    case "exp": return Math.exp;
    case "log": return Math.log;
    case "sqrt": return Math.sqrt;
    case "tanh": return Math.tanh;
    case "abs": return Math.abs;
    case "relu": return (x) => (x > 0 || Number.isNaN(x) ? x : 0); // NaN stays NaN, as torch.relu
    case "sigmoid": return sigmoid;
    case "silu": return (x) => x * sigmoid(x);
    // GELU, tanh approximation (Hendrycks and Gimpel; GPT-2's gelu_new)
    case "gelu": return (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
    default: return op satisfies never;
  }
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** The derivative of op at x, given y = op(x). */
function unaryGrad(op: UnaryOp): (x: number, y: number) => number {
  switch (op) {
    case "neg": return () => -1;
    case "exp": return (_x, y) => y; // d e^x = e^x
    case "log": return (x) => 1 / x;
    case "sqrt": return (_x, y) => 0.5 / y;
    case "tanh": return (_x, y) => 1 - y * y;
    case "abs": return (x) => Math.sign(x);
    case "relu": return (x) => (x > 0 ? 1 : 0);
    case "sigmoid": return (_x, y) => y * (1 - y);
    case "silu": return (x) => { const s = sigmoid(x); return s * (1 + x * (1 - s)); };
    case "gelu": return (x) => {
      // d/dx 0.5 x (1 + tanh u) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) u', u = c (x + 0.044715 x^3)
      const t = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
    };
    default: return op satisfies never;
  }
}

export function unary(op: UnaryOp, out: FloatArray, x: FloatArray, n: number): void {
  const f = unaryFn(op);
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
}

export function unaryBackward(op: UnaryOp, dx: FloatArray, x: FloatArray, y: FloatArray, dy: FloatArray, n: number): void {
  const g = unaryGrad(op);
  for (let i = 0; i < n; i++) dx[i] += dy[i] * g(x[i], y[i]);
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case "add": return (a, b) => a + b;
    case "sub": return (a, b) => a - b;
    case "mul": return (a, b) => a * b;
    case "div": return (a, b) => a / b;
    case "pow": return Math.pow;
    case "maximum": return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case "minimum": return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
    case "eq": return (a, b) => (a === b ? 1 : 0);
    case "lt": return (a, b) => (a < b ? 1 : 0);
    case "gt": return (a, b) => (a > b ? 1 : 0);
    default: return op satisfies never;
  }
}

/**
 * Visits every index of `shape` in row-major order, calling fn with the flat offsets into up to
 * three strided operands (an odometer: no per-element index arrays).
 */
export function forEachStrided(
  shape: readonly number[],
  s0: readonly number[], o0: number,
  s1: readonly number[], o1: number,
  s2: readonly number[], o2: number,
  fn: (i: number, a: number, b: number, c: number) => void,
): void {
  const rank = shape.length;
  let total = 1;
  for (const d of shape) total *= d;
  if (total === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let a = o0, b = o1, c = o2;
  const last = rank - 1;
  const n = rank === 0 ? 1 : shape[last];
  const a1 = rank === 0 ? 0 : s0[last], b1 = rank === 0 ? 0 : s1[last], c1 = rank === 0 ? 0 : s2[last];
  for (let i = 0; i < total; i += n) {
    for (let j = 0; j < n; j++) fn(i + j, a + j * a1, b + j * b1, c + j * c1);
    // advance the odometer over all axes but the last
    for (let ax = last - 1; ax >= 0; ax--) {
      idx[ax]++;
      a += s0[ax]; b += s1[ax]; c += s2[ax];
      if (idx[ax] < shape[ax]) break;
      a -= s0[ax] * shape[ax]; b -= s1[ax] * shape[ax]; c -= s2[ax] * shape[ax];
      idx[ax] = 0;
    }
  }
}

export function binary(op: BinaryOp, out: AnyArray, a: AnyArray, b: AnyArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  const f = binaryFn(op);
  forEachStrided(shape, aStrides, 0, bStrides, 0, aStrides, 0, (i, ia, ib) => {
    out[i] = f(a[ia], b[ib]);
  });
}

export function where(out: AnyArray, cond: Uint8Array, a: AnyArray, b: AnyArray, shape: readonly number[], cStrides: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  forEachStrided(shape, cStrides, 0, aStrides, 0, bStrides, 0, (i, ic, ia, ib) => {
    out[i] = cond[ic] ? a[ia] : b[ib];
  });
}

export function copyStrided(out: AnyArray, outOffset: number, outStrides: readonly number[], x: AnyArray, xOffset: number, xStrides: readonly number[], shape: readonly number[], accumulate: boolean): void {
  if (accumulate) {
    forEachStrided(shape, outStrides, outOffset, xStrides, xOffset, xStrides, xOffset, (_i, io, ix) => {
      out[io] += x[ix];
    });
  } else {
    forEachStrided(shape, outStrides, outOffset, xStrides, xOffset, xStrides, xOffset, (_i, io, ix) => {
      out[io] = x[ix];
    });
  }
}

export function cast(out: AnyArray, x: AnyArray, n: number): void {
  if (out instanceof Uint8Array) for (let i = 0; i < n; i++) out[i] = x[i] !== 0 ? 1 : 0;
  else if (out instanceof Int32Array) for (let i = 0; i < n; i++) out[i] = Math.trunc(x[i]);
  else for (let i = 0; i < n; i++) out[i] = x[i];
}
