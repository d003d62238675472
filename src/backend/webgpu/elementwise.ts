// WGSL elementwise kernels: unary, unaryBackward, binary with broadcasting strides, reduce, adam.
// Mirrors src/backend/js/elementwise.ts, reduce.ts and adam.ts; one thread per output element.
import type { AdamParams, BinaryOp, ReduceOp, UnaryOp } from "../kernels.js";
import { type GpuArray, type GpuContext, grid, INDEX_WGSL, Params, PARAMS_WGSL, WG, wgslType } from "./context.js";


// tanh from exp: builtin tanh may return NaN for large |x| on some drivers; below 10 it is accurate
const MATH_WGSL = `
const GELU_C = 0.7978845608028654;
fn tanh_(x: f32) -> f32 { return select(sign(x), tanh(x), abs(x) < 10.0); }
fn sigmoid_(x: f32) -> f32 { let e = exp(-abs(x)); return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0); }
fn gelu_(x: f32) -> f32 { return 0.5 * x * (1.0 + tanh_(GELU_C * (x + 0.044715 * x * x * x))); }
`;

function unaryExpr(op: UnaryOp): string {
  switch (op) {
    case "neg": return "-x";
    case "exp": return "exp(x)";
    case "log": return "log(x)";
    case "sqrt": return "sqrt(x)";
    case "tanh": return "tanh_(x)";
    case "abs": return "abs(x)";
    case "relu": return "select(0.0, x, x > 0.0)";
    case "sigmoid": return "sigmoid_(x)";
    case "silu": return "x * sigmoid_(x)";
    case "gelu": return "gelu_(x)";
    default: return op satisfies never;
  }
}

/** d op(x) / dx from x and y = op(x), as unaryGrad in the reference. */
function unaryGradExpr(op: UnaryOp): string {
  switch (op) {
    case "neg": return "-1.0";
    case "exp": return "y";
    case "log": return "1.0 / x";
    case "sqrt": return "0.5 / y";
    case "tanh": return "1.0 - y * y";
    case "abs": return "sign(x)";
    case "relu": return "select(0.0, 1.0, x > 0.0)";
    case "sigmoid": return "y * (1.0 - y)";
    case "silu": return "silu_grad(x)";
    case "gelu": return "gelu_grad(x)";
    default: return op satisfies never;
  }
}

const GRAD_WGSL = `
fn silu_grad(x: f32) -> f32 { let s = sigmoid_(x); return s * (1.0 + x * (1.0 - s)); }
fn gelu_grad(x: f32) -> f32 {
  let t = tanh_(GELU_C * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * 0.044715 * x * x);
}`;

function checkF32(fn: string, ...arrays: GpuArray[]): void {
  for (const a of arrays) if (a.dtype !== "float32") throw new Error(`webgpu.${fn}: expected float32 arrays, got ${a.dtype}`);
}

export function unary(ctx: GpuContext, op: UnaryOp, out: GpuArray, x: GpuArray, n: number): void {
  checkF32("unary", out, x);
  const code = `${PARAMS_WGSL}${MATH_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  let x = X[i];
  out[i] = ${unaryExpr(op)};
}`;
  ctx.run(code, new Params().u(n), [out, x], grid(Math.ceil(n / WG)));
}

export function unaryBackward(ctx: GpuContext, op: UnaryOp, dx: GpuArray, x: GpuArray, y: GpuArray, dy: GpuArray, n: number): void {
  checkF32("unaryBackward", dx, x, y, dy);
  const code = `${PARAMS_WGSL}${MATH_WGSL}${GRAD_WGSL}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> Y: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  let x = X[i];
  let y = Y[i];
  dx[i] += dy[i] * (${unaryGradExpr(op)});
}`;
  ctx.run(code, new Params().u(n), [dx, x, y, dy], grid(Math.ceil(n / WG)));
}

function binaryExpr(op: BinaryOp): string {
  switch (op) {
    case "add": return "a + b";
    case "sub": return "a - b";
    case "mul": return "a * b";
    case "div": return "a / b";
    case "pow": return "pow_(a, b)";
    case "maximum": return "select(b, a, a >= b)";
    case "minimum": return "select(b, a, a <= b)";
    case "eq": return "select(0.0, 1.0, a == b)";
    case "lt": return "select(0.0, 1.0, a < b)";
    case "gt": return "select(0.0, 1.0, a > b)";
    default: return op satisfies never;
  }
}

// WGSL pow is undefined for a < 0; Math.pow gives sign * |a|^b for integer b and NaN otherwise
const POW_WGSL = `
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_(), b < 0.0); }
  let m = exp2(b * log2(abs(a)));
  if (a > 0.0) { return m; }
  if (fract(b) != 0.0) { return nan_(); }
  return select(m, -m, abs(b) % 2.0 == 1.0);
}`;

const MAX_RANK = 8; // params: 0 total, 1 rank, then shape and the operands' strides (8 words each)

export function binary(ctx: GpuContext, op: BinaryOp, out: GpuArray, a: GpuArray, b: GpuArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  if (shape.length > MAX_RANK) throw new Error(`webgpu.binary: rank ${shape.length} > ${MAX_RANK}`);
  const total = shape.reduce((q, d) => q * d, 1);
  const store = out.dtype === "float32" ? "r" : out.dtype === "int32" ? "i32(r)" : "select(0u, 1u, r != 0.0)";
  const code = `${PARAMS_WGSL}${POW_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<${wgslType(out.dtype)}>;
@group(0) @binding(2) var<storage, read> A: array<${wgslType(a.dtype)}>;
@group(0) @binding(3) var<storage, read> B: array<${wgslType(b.dtype)}>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  ${stridedIndex(2)}
  let a = f32(A[o0]);
  let b = f32(B[o1]);
  let r = ${binaryExpr(op)};
  out[i] = ${store};
}`;
  ctx.run(code, stridedParams(shape, [aStrides, bStrides]), [out, a, b], grid(Math.ceil(total / WG)));
}

/** total, rank, shape, then each operand's strides, padded to MAX_RANK. */
function stridedParams(shape: readonly number[], strides: (readonly number[])[], p = new Params()): Params {
  p.u(shape.reduce((q, d) => q * d, 1)).u(shape.length);
  for (let k = 0; k < MAX_RANK; k++) p.u(shape[k] ?? 1);
  for (const st of strides) for (let k = 0; k < MAX_RANK; k++) p.u(st[k] ?? 0);
  return p;
}

/** WGSL: decompose flat index i over the shape into offsets o0, o1, ... of the strided operands. */
function stridedIndex(n: number, first = 2): string {
  const offs = Array.from({ length: n }, (_, j) => `var o${j} = 0u;`).join(" ");
  const adds = Array.from({ length: n }, (_, j) => `o${j} += k * pu(${first + MAX_RANK * (j + 1)}u + u32(d));`).join(" ");
  return `var rem = i; ${offs}
  for (var d = i32(pu(1)) - 1; d >= 0; d--) {
    let n = pu(${first}u + u32(d));
    let k = rem % n;
    rem = rem / n;
    ${adds}
  }`;
}

export function where(ctx: GpuContext, out: GpuArray, cond: GpuArray, a: GpuArray, b: GpuArray, shape: readonly number[], cStrides: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  if (shape.length > MAX_RANK) throw new Error(`webgpu.where: rank ${shape.length} > ${MAX_RANK}`);
  const t = wgslType(out.dtype);
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> Cd: array<u32>;
@group(0) @binding(3) var<storage, read> A: array<${wgslType(a.dtype)}>;
@group(0) @binding(4) var<storage, read> B: array<${wgslType(b.dtype)}>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  ${stridedIndex(3)}
  out[i] = select(${t}(B[o2]), ${t}(A[o1]), Cd[o0] != 0u);
}`;
  ctx.run(code, stridedParams(shape, [cStrides, aStrides, bStrides]), [out, cond, a, b], grid(Math.ceil(shape.reduce((q, d) => q * d, 1) / WG)));
}

/** out[i] = x[i] converted: to bool x != 0, to i32 truncated toward zero, to f32 as is. */
export function cast(ctx: GpuContext, out: GpuArray, x: GpuArray, n: number): void {
  const xt = wgslType(x.dtype), expr = out.dtype === "bool" ? `select(0u, 1u, X[i] != ${xt}(0))` : `${wgslType(out.dtype)}(X[i])`;
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<${wgslType(out.dtype)}>;
@group(0) @binding(2) var<storage, read> X: array<${xt}>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  out[i] = ${expr};
}`;
  ctx.run(code, new Params().u(n), [out, x], grid(Math.ceil(n / WG)));
}

/**
 * out[outOffset + idx . outStrides] (= or +=) x[xOffset + idx . xStrides]. One thread per index, so
 * out positions must not repeat (no 0 stride on an axis longer than 1): repeated += would race.
 */
export function copyStrided(ctx: GpuContext, out: GpuArray, outOffset: number, outStrides: readonly number[], x: GpuArray, xOffset: number, xStrides: readonly number[], shape: readonly number[], accumulate: boolean): void {
  if (shape.length > MAX_RANK) throw new Error(`webgpu.copyStrided: rank ${shape.length} > ${MAX_RANK}`);
  if (shape.some((d, k) => d > 1 && outStrides[k] === 0)) {
    throw new Error(`webgpu.copyStrided: out strides [${outStrides}] repeat positions over shape [${shape}]; reduce first`);
  }
  const t = wgslType(out.dtype);
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> X: array<${wgslType(x.dtype)}>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  ${stridedIndex(2, 4)}
  let oi = pu(2) + o0;
  let v = ${t}(X[pu(3) + o1]);
  out[oi] = ${accumulate ? "out[oi] + v" : "v"};
}`;
  // params: total, rank, outOffset, xOffset, shape, outStrides, xStrides
  const p = new Params().u(shape.reduce((q, d) => q * d, 1)).u(shape.length).u(outOffset).u(xOffset);
  for (let k = 0; k < MAX_RANK; k++) p.u(shape[k] ?? 1);
  for (const st of [outStrides, xStrides]) for (let k = 0; k < MAX_RANK; k++) p.u(st[k] ?? 0);
  ctx.run(code, p, [out, x], grid(Math.ceil(shape.reduce((q, d) => q * d, 1) / WG)));
}

/** Values of j one reduce thread covers when the reduced axis is split (see reduce). */
const REDUCE_CHUNK = 256;

/**
 * out[o, i] = op over j of x[o, j, i]. One thread per output, over the whole axis, when there are
 * many outputs; when there are few and the axis is long (a full sum: gradient norms, losses) the
 * axis is split into chunks of REDUCE_CHUNK, one thread per (output, chunk), and the partials are
 * reduced again, so no thread walks millions of values alone.
 */
export function reduce(ctx: GpuContext, op: ReduceOp, out: GpuArray, x: GpuArray, outer: number, n: number, inner: number): void {
  checkF32("reduce", out, x);
  if (n > 2 * REDUCE_CHUNK && outer * inner < 16384) {
    const chunks = Math.ceil(n / REDUCE_CHUNK);
    const partial = ctx.tempArray("float32", outer * chunks * inner);
    reducePass(ctx, op, partial, x, outer, n, inner, REDUCE_CHUNK, chunks);
    reduce(ctx, op, out, partial, outer, chunks, inner);
    return;
  }
  reducePass(ctx, op, out, x, outer, n, inner, Math.max(n, 1), 1);
}

/** out[o, c, i] = op over j in chunk c (chunk values of j each) of x[o, j, i]. */
function reducePass(ctx: GpuContext, op: ReduceOp, out: GpuArray, x: GpuArray, outer: number, n: number, inner: number, chunk: number, chunks: number): void {
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
${INDEX_WGSL}
  let n = pu(1); let inner = pu(2); let chunk = pu(3); let chunks = pu(4);
  if (i >= pu(0) * chunks * inner) { return; }
  let o = i / (chunks * inner); let c = (i / inner) % chunks; let ii = i % inner;
  let base = o * n * inner + ii;
  var acc = ${op === "sum" ? "0.0" : "neginf_()"};
  for (var j = c * chunk; j < min(n, (c + 1u) * chunk); j++) { acc = ${op === "sum" ? "acc + X[base + j * inner]" : "max(acc, X[base + j * inner])"}; }
  out[i] = acc;
}`;
  ctx.run(code, new Params().u(outer).u(n).u(inner).u(chunk).u(chunks), [out, x], grid(Math.ceil((outer * chunks * inner) / WG)));
}

/** One Adam/AdamW step in place; bias corrections are folded into stepSize and bc2Sqrt on the host. */
export function adamUpdate(ctx: GpuContext, param: GpuArray, grad: GpuArray, m: GpuArray, v: GpuArray, n: number, p: AdamParams): void {
  checkF32("adamUpdate", param, grad, m, v);
  const decay = p.decoupled ? "w = w * (1.0 - lr * wd);" : "g = g + wd * w;";
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  let lr = pf(1); let b1 = pf(2); let b2 = pf(3); let eps = pf(4); let wd = pf(5); let stepSize = pf(6); let bc2Sqrt = pf(7);
  var g = G[i];
  var w = W[i];
  ${decay}
  let m = b1 * M[i] + (1.0 - b1) * g;
  let v = b2 * V[i] + (1.0 - b2) * g * g;
  M[i] = m;
  V[i] = v;
  W[i] = w - stepSize * m / (sqrt(v) / bc2Sqrt + eps);
}`;
  const bc1 = 1 - p.beta1 ** p.step, bc2 = 1 - p.beta2 ** p.step;
  const params = new Params().u(n).f(p.lr).f(p.beta1).f(p.beta2).f(p.eps).f(p.weightDecay).f(p.lr / bc1).f(Math.sqrt(bc2));
  ctx.run(code, params, [param, grad, m, v], grid(Math.ceil(n / WG)));
}
