// WGSL row kernels over (N, C): softmax, log-softmax, layer norm, cross-entropy, and embeddings.
// One 64-thread workgroup per row; threads stride over columns and combine with a tree reduction
// in workgroup memory. Mirrors src/backend/js/softmax.ts, layer-norm.ts and loss.ts.
import { type GpuArray, type GpuContext, grid, INDEX_WGSL, Params, PARAMS_WGSL, WG } from "./context.js";

const ROW_WGSL = `
var<workgroup> red: array<f32, ${WG}>;
fn wgSum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wgMax(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wid.y * nwg.x + wid.x;
  let C = pu(1);
  if (row >= pu(0)) { return; }
  let o = row * C;`;

/** Row max of X, 0 for an all -inf row (as the reference, which then yields NaN like PyTorch). */
const ROW_MAX = `
  var mx = neginf_();
  for (var c = li; c < C; c += ${WG}u) { mx = max(mx, X[o + c]); }
  mx = wgMax(mx, li);
  if (mx == neginf_()) { mx = 0.0; }
  var se = 0.0;
  for (var c = li; c < C; c += ${WG}u) { se += exp(X[o + c] - mx); }
  se = wgSum(se, li);`;

function rows(ctx: GpuContext, body: string, bindings: string[], arrays: GpuArray[], N: number, C: number, extra: (p: Params) => void = () => {}): void {
  const decls = bindings.map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b}>;`).join("\n");
  const p = new Params().u(N).u(C);
  extra(p);
  ctx.run(`${PARAMS_WGSL}\n${decls}\n${ROW_WGSL}\n${body}\n}`, p, arrays, grid(N));
}

export function softmaxForward(ctx: GpuContext, out: GpuArray, x: GpuArray, N: number, C: number): void {
  rows(ctx, `${ROW_MAX}
  for (var c = li; c < C; c += ${WG}u) { out[o + c] = exp(X[o + c] - mx) / se; }`, ["read_write> out: array<f32", "read> X: array<f32"], [out, x], N, C);
}

export function logSoftmaxForward(ctx: GpuContext, out: GpuArray, x: GpuArray, N: number, C: number): void {
  rows(ctx, `${ROW_MAX}
  let lse = mx + log(se);
  for (var c = li; c < C; c += ${WG}u) { out[o + c] = X[o + c] - lse; }`, ["read_write> out: array<f32", "read> X: array<f32"], [out, x], N, C);
}

export function softmaxBackward(ctx: GpuContext, dx: GpuArray, y: GpuArray, dy: GpuArray, N: number, C: number): void {
  rows(ctx, `
  var dot = 0.0;
  for (var c = li; c < C; c += ${WG}u) { dot += dy[o + c] * Y[o + c]; }
  dot = wgSum(dot, li);
  for (var c = li; c < C; c += ${WG}u) { dx[o + c] += Y[o + c] * (dy[o + c] - dot); }`,
  ["read_write> dx: array<f32", "read> Y: array<f32", "read> dy: array<f32"], [dx, y, dy], N, C);
}

export function logSoftmaxBackward(ctx: GpuContext, dx: GpuArray, y: GpuArray, dy: GpuArray, N: number, C: number): void {
  rows(ctx, `
  var s = 0.0;
  for (var c = li; c < C; c += ${WG}u) { s += dy[o + c]; }
  s = wgSum(s, li);
  for (var c = li; c < C; c += ${WG}u) { dx[o + c] += dy[o + c] - exp(Y[o + c]) * s; }`,
  ["read_write> dx: array<f32", "read> Y: array<f32", "read> dy: array<f32"], [dx, y, dy], N, C);
}

export function layerNormForward(ctx: GpuContext, out: GpuArray, mean: GpuArray, rstd: GpuArray, x: GpuArray, weight: GpuArray | null, bias: GpuArray | null, N: number, C: number, eps: number): void {
  const binds = ["read_write> out: array<f32", "read_write> Mean: array<f32", "read_write> Rstd: array<f32", "read> X: array<f32"];
  const arrays = [out, mean, rstd, x];
  if (weight) { binds.push("read> Wt: array<f32"); arrays.push(weight); }
  if (bias) { binds.push("read> Bs: array<f32"); arrays.push(bias); }
  rows(ctx, `
  var m = 0.0;
  for (var c = li; c < C; c += ${WG}u) { m += X[o + c]; }
  m = wgSum(m, li) / f32(C);
  var v = 0.0;
  for (var c = li; c < C; c += ${WG}u) { let d = X[o + c] - m; v += d * d; }
  v = wgSum(v, li) / f32(C);
  let s = 1.0 / sqrt(v + pf(2));
  for (var c = li; c < C; c += ${WG}u) {
    out[o + c] = (X[o + c] - m) * s${weight ? " * Wt[c]" : ""}${bias ? " + Bs[c]" : ""};
  }
  if (li == 0u) { Mean[row] = m; Rstd[row] = s; }`, binds, arrays, N, C, (p) => p.f(eps));
}

export function layerNormBackward(ctx: GpuContext, dx: GpuArray, dweight: GpuArray | null, dbias: GpuArray | null, dout: GpuArray, x: GpuArray, mean: GpuArray, rstd: GpuArray, weight: GpuArray | null, N: number, C: number): void {
  const binds = ["read_write> dx: array<f32", "read> dout: array<f32", "read> X: array<f32", "read> Mean: array<f32", "read> Rstd: array<f32"];
  const arrays = [dx, dout, x, mean, rstd];
  if (weight) { binds.push("read> Wt: array<f32"); arrays.push(weight); }
  const w = weight ? " * Wt[c]" : "";
  rows(ctx, `
  let m = Mean[row];
  let s = Rstd[row];
  var dm = 0.0;
  var dmx = 0.0;
  for (var c = li; c < C; c += ${WG}u) {
    let dn = dout[o + c]${w};
    dm += dn;
    dmx += dn * (X[o + c] - m) * s;
  }
  dm = wgSum(dm, li) / f32(C);
  dmx = wgSum(dmx, li) / f32(C);
  for (var c = li; c < C; c += ${WG}u) {
    let xhat = (X[o + c] - m) * s;
    dx[o + c] += s * (dout[o + c]${w} - dm - xhat * dmx);
  }`, binds, arrays, N, C);
  if (!dweight && !dbias) return;
  // parameter gradients: one thread per column, summing over rows
  const pb: string[] = [], pa: GpuArray[] = [];
  if (dweight) { pb.push("dW"); pa.push(dweight); }
  if (dbias) { pb.push("dB"); pa.push(dbias); }
  const decls = pb.map((n, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${n}: array<f32>;`).join("\n");
  const k = pb.length;
  const code = `${PARAMS_WGSL}
${decls}
@group(0) @binding(${k + 1}) var<storage, read> dout: array<f32>;
@group(0) @binding(${k + 2}) var<storage, read> X: array<f32>;
@group(0) @binding(${k + 3}) var<storage, read> Mean: array<f32>;
@group(0) @binding(${k + 4}) var<storage, read> Rstd: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let N = pu(0);
  let C = pu(1);
  if (c >= C) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var n = 0u; n < N; n++) {
    let d = dout[n * C + c];
    sw += d * (X[n * C + c] - Mean[n]) * Rstd[n];
    sb += d;
  }
  ${dweight ? "dW[c] += sw;" : ""}
  ${dbias ? "dB[c] += sb;" : ""}
}`;
  ctx.run(code, new Params().u(N).u(C), [...pa, dout, x, mean, rstd], [Math.ceil(C / WG), 1, 1]);
}

export function crossEntropyForward(ctx: GpuContext, losses: GpuArray, logits: GpuArray, targets: GpuArray, N: number, V: number, ignoreIndex: number): void {
  // every row computes its log-sum-exp (the barriers must stay in uniform control flow); ignored rows then write 0
  rows(ctx, `${ROW_MAX}
  let t = Tg[row];
  let ignored = t == pi(2);
  // a target out of range (the host checks only targets it can read) gives NaN, never a wrong number
  let loss = select(mx + log(se) - X[o + u32(clamp(t, 0, i32(C) - 1))], nan_(), t < 0 || t >= i32(C));
  if (li == 0u) { losses[row] = select(loss, 0.0, ignored); }`,
  ["read_write> losses: array<f32", "read> X: array<f32", "read> Tg: array<i32"], [losses, logits, targets], N, V, (p) => p.i(ignoreIndex));
}

export function crossEntropyBackward(ctx: GpuContext, dlogits: GpuArray, dlosses: GpuArray, logits: GpuArray, targets: GpuArray, N: number, V: number, ignoreIndex: number): void {
  rows(ctx, `${ROW_MAX}
  let t = Tg[row];
  let lse = mx + log(se);
  let d = dl[row];
  if (t != pi(2)) {
    for (var c = li; c < C; c += ${WG}u) { dX[o + c] += d * (exp(X[o + c] - lse) - select(0.0, 1.0, i32(c) == t)); }
  }`, ["read_write> dX: array<f32", "read> dl: array<f32", "read> X: array<f32", "read> Tg: array<i32"], [dlogits, dlosses, logits, targets], N, V, (p) => p.i(ignoreIndex));
}

export function embeddingForward(ctx: GpuContext, out: GpuArray, weight: GpuArray, ids: GpuArray, N: number, C: number): void {
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;
${INDEX_WGSL}
  let C = pu(1);
  if (i >= pu(0) * C) { return; }
  let id = ids[i / C];
  // an id out of range (the host checks only ids it can read) gives a zero row
  out[i] = select(0.0, Wt[u32(id) * C + i % C], id >= 0 && u32(id) < arrayLength(&Wt) / C);
}`;
  ctx.run(code, new Params().u(N).u(C), [out, weight, ids], grid(Math.ceil((N * C) / WG)));
}

/**
 * dweight[v, c] += sum of dout[n, c] over n with ids[n] == v. WGSL has no float atomics. Small
 * problems: each thread owns one dweight element and scans all ids, O(V N C) but deterministic.
 * Large ones (GPT-2's vocabulary): one thread per dout element adds into dweight with a
 * compare-exchange loop on the float's bits, O(N C); the summation order then varies run to run.
 */
export function embeddingBackward(ctx: GpuContext, dweight: GpuArray, dout: GpuArray, ids: GpuArray, N: number, C: number): void {
  if ((dweight.length / C) * N > SCAN_LIMIT) return embeddingBackwardAtomic(ctx, dweight, dout, ids, N, C);
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> dW: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;
${INDEX_WGSL}
  let N = pu(0);
  let C = pu(1);
  if (i >= pu(2)) { return; }
  let v = i32(i / C);
  let c = i % C;
  var acc = 0.0;
  for (var n = 0u; n < N; n++) { if (ids[n] == v) { acc += dout[n * C + c]; } }
  dW[i] += acc;
}`;
  ctx.run(code, new Params().u(N).u(C).u(dweight.length), [dweight, dout, ids], grid(Math.ceil(dweight.length / WG)));
}

/** V * N above which embeddingBackward switches from the per-row scan to the atomic add. */
export const SCAN_LIMIT = 1 << 20;

export function embeddingBackwardAtomic(ctx: GpuContext, dweight: GpuArray, dout: GpuArray, ids: GpuArray, N: number, C: number): void {
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> dW: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;
${INDEX_WGSL}
  let C = pu(1);
  if (i >= pu(0) * C) { return; }
  let dst = u32(ids[i / C]) * C + i % C;
  let add = dout[i];
  var old = atomicLoad(&dW[dst]);
  loop {
    let r = atomicCompareExchangeWeak(&dW[dst], old, bitcast<u32>(bitcast<f32>(old) + add));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`;
  ctx.run(code, new Params().u(N).u(C), [dweight, dout, ids], grid(Math.ceil((N * C) / WG)));
}
