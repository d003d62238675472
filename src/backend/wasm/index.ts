// The wasm backend: float32 kernels in WebAssembly SIMD (src/backend/wasm/assembly), each copying
// its operands into linear memory per call. Anything else (float64 or int arguments, ops without a
// wasm version, tensors too small to repay the copies) goes to the js reference kernels.
import { jsKernels as js } from "../js/index.js";
import type { AdamParams, AnyArray, AttentionDims, BinaryOp, FloatArray, Kernels, UnaryOp } from "../kernels.js";
import { attentionBackward, attentionForward } from "./attention.js";
import { binaryFast, copyFast } from "./binary-fast.js";
import { alloc, commit, f32, i32, reset, run, threadCount } from "./runtime.js";

const isF32 = (...xs: (AnyArray | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);
const ceil4 = (n: number): number => (n + 3) & ~3;

/** Copies x (n floats) into a fresh arena buffer of at least `cap` floats; returns its offset. */
function put(ptr: number, x: ArrayLike<number> & { subarray?: unknown }, n: number): void {
  f32(ptr, n).set((x as Float32Array).subarray(0, n));
}

/** Rows per work unit so a unit is ~16K elements. */
const rowsPerUnit = (C: number): number => Math.max(1, Math.floor(16384 / Math.max(1, C)));

/** Per-thread matmul scratch: a 6x8 tile and MC x KC (48 x 256) packed rows of A. */
const MM_SCRATCH = 256 + 48 * 256 * 4;

function matmul(out: FloatArray, a: FloatArray, b: FloatArray, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  if (!isF32(out, a, b) || batch * M * N * K < 4096 || M === 0 || N === 0) {
    js.matmul(out, a, b, batch, M, K, N, aStride, bStride, transA, transB, accumulate);
    return;
  }
  const aLen = (batch - 1) * aStride + M * K, bLen = (batch - 1) * bStride + K * N;
  const nbp = bStride === 0 ? 1 : batch, nJB = Math.ceil(N / 8), nt = threadCount();
  reset();
  const pc = alloc(batch * M * N * 4), pa = alloc(aLen * 4), pb = alloc(bLen * 4);
  const pbp = alloc(nbp * nJB * K * 32), scratch = alloc(nt * MM_SCRATCH);
  commit();
  put(pa, a, aLen);
  put(pb, b, bLen);
  const c = f32(pc, batch * M * N);
  if (accumulate) c.set(out.subarray(0, batch * M * N));
  else c.fill(0);
  run("matmulPack", [pbp, pb, nbp, K, N, bStride, transB ? 1 : 0], nbp * K * N);
  run("matmulRun", [pc, pa, pbp, batch, M, K, N, aStride, transA ? 1 : 0, bStride === 0 ? 1 : 0], 2 * batch * M * N * K, [scratch, MM_SCRATCH]);
  out.set(f32(pc, batch * M * N));
}

// Unary ops worth the copies: the transcendental ones (cheap ones like neg/relu stay in JS).
const UNARY_CODES: Partial<Record<UnaryOp, number>> = { exp: 1, tanh: 3, gelu: 5, silu: 6, sigmoid: 8 };

function unary(op: UnaryOp, out: FloatArray, x: FloatArray, n: number): void {
  const code = UNARY_CODES[op];
  if (code === undefined || !isF32(out, x) || n < 2048) return js.unary(op, out, x, n);
  const n4 = ceil4(n);
  reset();
  const po = alloc(n4 * 4), px = alloc(n4 * 4);
  commit();
  put(px, x, n);
  run("unary", [code, po, px, n4, 16384], n * 16);
  out.set(f32(po, n));
}

function unaryBackward(op: UnaryOp, dx: FloatArray, x: FloatArray, y: FloatArray, dy: FloatArray, n: number): void {
  const code = UNARY_CODES[op];
  if (code === undefined || !isF32(dx, x, y, dy) || n < 2048) return js.unaryBackward(op, dx, x, y, dy, n);
  const n4 = ceil4(n);
  reset();
  const pdx = alloc(n4 * 4), px = alloc(n4 * 4), py = alloc(n4 * 4), pdy = alloc(n4 * 4);
  commit();
  put(pdx, dx, n); put(px, x, n); put(py, y, n); put(pdy, dy, n);
  run("unaryBackward", [code, pdx, px, py, pdy, n4, 16384], n * 16);
  dx.set(f32(pdx, n));
}

function binary(op: BinaryOp, out: AnyArray, a: AnyArray, b: AnyArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void {
  if (!binaryFast(op, out, a, b, shape, aStrides, bStrides)) js.binary(op, out, a, b, shape, aStrides, bStrides);
}

function copyStrided(out: AnyArray, outOffset: number, outStrides: readonly number[], x: AnyArray, xOffset: number, xStrides: readonly number[], shape: readonly number[], accumulate: boolean): void {
  if (!copyFast(out, outOffset, outStrides, x, xOffset, xStrides, shape, accumulate)) js.copyStrided(out, outOffset, outStrides, x, xOffset, xStrides, shape, accumulate);
}

/** Row kernels share one shape: (outputs..., inputs...) of N rows of C floats. */
function rowKernel(name: string, N: number, C: number, outs: FloatArray[], ins: FloatArray[], accumulate: boolean): void {
  const n = N * C;
  reset();
  const ptrs = [...outs, ...ins].map(() => alloc(n * 4));
  commit();
  outs.forEach((o, i) => { if (accumulate) put(ptrs[i], o, n); });
  ins.forEach((x, i) => put(ptrs[outs.length + i], x, n));
  run(name, [...ptrs, N, C, rowsPerUnit(C)], n * 8);
  outs.forEach((o, i) => o.set(f32(ptrs[i], n)));
}

const SMALL_ROWS = 1024;

function softmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void {
  if (!isF32(out, x) || N * C < SMALL_ROWS) return js.softmaxForward(out, x, N, C);
  rowKernel("softmaxForward", N, C, [out], [x], false);
}
function softmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void {
  if (!isF32(dx, y, dy) || N * C < SMALL_ROWS) return js.softmaxBackward(dx, y, dy, N, C);
  rowKernel("softmaxBackward", N, C, [dx], [y, dy], true);
}
function logSoftmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void {
  if (!isF32(out, x) || N * C < SMALL_ROWS) return js.logSoftmaxForward(out, x, N, C);
  rowKernel("logSoftmaxForward", N, C, [out], [x], false);
}
function logSoftmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void {
  if (!isF32(dx, y, dy) || N * C < SMALL_ROWS) return js.logSoftmaxBackward(dx, y, dy, N, C);
  rowKernel("logSoftmaxBackward", N, C, [dx], [y, dy], true);
}

function layerNormForward(out: FloatArray, mean: FloatArray, rstd: FloatArray, x: FloatArray, weight: FloatArray | null, bias: FloatArray | null, N: number, C: number, eps: number): void {
  if (!isF32(out, mean, rstd, x, weight, bias) || N * C < SMALL_ROWS) return js.layerNormForward(out, mean, rstd, x, weight, bias, N, C, eps);
  const n = N * C;
  reset();
  const po = alloc(n * 4), px = alloc(n * 4), pm = alloc(N * 4), pr = alloc(N * 4);
  const pw = weight ? alloc(C * 4) : 0, pb = bias ? alloc(C * 4) : 0;
  commit();
  put(px, x, n);
  if (weight) put(pw, weight, C);
  if (bias) put(pb, bias, C);
  run("layerNormForward", [po, pm, pr, px, pw, pb, N, C, eps, rowsPerUnit(C)], n * 8);
  out.set(f32(po, n)); mean.set(f32(pm, N)); rstd.set(f32(pr, N));
}

function layerNormBackward(dx: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null, dout: FloatArray, x: FloatArray, mean: FloatArray, rstd: FloatArray, weight: FloatArray | null, N: number, C: number): void {
  if (!isF32(dx, dweight, dbias, dout, x, mean, rstd, weight) || N * C < SMALL_ROWS) return js.layerNormBackward(dx, dweight, dbias, dout, x, mean, rstd, weight, N, C);
  const n = N * C;
  reset();
  const pdx = alloc(n * 4), pdo = alloc(n * 4), px = alloc(n * 4), pm = alloc(N * 4), pr = alloc(N * 4);
  const pw = weight ? alloc(C * 4) : 0, pdw = dweight ? alloc(C * 4) : 0, pdb = dbias ? alloc(C * 4) : 0;
  commit();
  put(pdx, dx, n); put(pdo, dout, n); put(px, x, n); put(pm, mean, N); put(pr, rstd, N);
  if (weight) put(pw, weight, C);
  if (dweight) put(pdw, dweight, C);
  if (dbias) put(pdb, dbias, C);
  run("layerNormBackward", [pdx, pdo, px, pm, pr, pw, N, C, rowsPerUnit(C)], n * 10);
  if (dweight || dbias) run("layerNormBackwardParams", [pdw, pdb, pdo, px, pm, pr, N, C], n * 4);
  dx.set(f32(pdx, n));
  if (dweight) dweight.set(f32(pdw, C));
  if (dbias) dbias.set(f32(pdb, C));
}

function crossEntropyForward(losses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  if (!isF32(losses, logits) || N * V < SMALL_ROWS) return js.crossEntropyForward(losses, logits, targets, N, V, ignoreIndex);
  reset();
  const pl = alloc(N * 4), px = alloc(N * V * 4), pt = alloc(N * 4);
  commit();
  put(px, logits, N * V);
  i32(pt, N).set(targets.subarray(0, N));
  run("crossEntropyForward", [pl, px, pt, N, V, ignoreIndex, rowsPerUnit(V)], N * V * 6);
  losses.set(f32(pl, N));
}

function crossEntropyBackward(dlogits: FloatArray, dlosses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void {
  if (!isF32(dlogits, dlosses, logits) || N * V < SMALL_ROWS) return js.crossEntropyBackward(dlogits, dlosses, logits, targets, N, V, ignoreIndex);
  reset();
  const pd = alloc(N * V * 4), pdl = alloc(N * 4), px = alloc(N * V * 4), pt = alloc(N * 4);
  commit();
  put(pd, dlogits, N * V); put(pdl, dlosses, N); put(px, logits, N * V);
  i32(pt, N).set(targets.subarray(0, N));
  run("crossEntropyBackward", [pd, pdl, px, pt, N, V, ignoreIndex, rowsPerUnit(V)], N * V * 10);
  dlogits.set(f32(pd, N * V));
}

function embeddingBackward(dweight: FloatArray, dout: FloatArray, ids: Int32Array, N: number, C: number): void {
  if (!isF32(dweight, dout) || N * C < 4096) return js.embeddingBackward(dweight, dout, ids, N, C);
  // only the rows that ids touch travel: remap ids to a compact table
  const rows = new Map<number, number>();
  const local = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let r = rows.get(ids[n]);
    if (r === undefined) { r = rows.size; rows.set(ids[n], r); }
    local[n] = r;
  }
  const R = rows.size;
  reset();
  const pw = alloc(R * C * 4), pd = alloc(N * C * 4), pi = alloc(N * 4);
  commit();
  const w = f32(pw, R * C);
  for (const [id, r] of rows) w.set(dweight.subarray(id * C, id * C + C), r * C);
  put(pd, dout, N * C);
  i32(pi, N).set(local);
  run("embeddingBackward", [pw, pd, pi, N, C], N * C);
  const res = f32(pw, R * C);
  for (const [id, r] of rows) dweight.set(res.subarray(r * C, r * C + C), id * C);
}

function adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number, p: AdamParams): void {
  if (!isF32(param, grad, m, v) || n < 1024) return js.adamUpdate(param, grad, m, v, n, p);
  const n4 = ceil4(n);
  reset();
  const pp = alloc(n4 * 4), pg = alloc(n4 * 4), pm = alloc(n4 * 4), pv = alloc(n4 * 4);
  commit();
  put(pp, param, n); put(pg, grad, n); put(pm, m, n); put(pv, v, n);
  const bc1 = 1 - p.beta1 ** p.step, bc2 = 1 - p.beta2 ** p.step;
  const decay = p.decoupled ? 1 - p.lr * p.weightDecay : 1, l2 = p.decoupled ? 0 : p.weightDecay;
  run("adamUpdate", [pp, pg, pm, pv, n4, p.beta1, p.beta2, p.eps, p.lr / bc1, Math.sqrt(bc2), decay, l2, 16384], n * 12);
  param.set(f32(pp, n)); m.set(f32(pm, n)); v.set(f32(pv, n));
}

export const wasmKernels: Kernels = {
  ...js,
  unary, unaryBackward, binary, copyStrided, matmul,
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward,
  layerNormForward, layerNormBackward,
  crossEntropyForward, crossEntropyBackward, embeddingBackward,
  attentionForward: (out, lse, weights, q, k, v, mask, bias, d: AttentionDims) => attentionForward(out, lse, weights, q, k, v, mask, bias, d),
  attentionBackward, adamUpdate,
};
