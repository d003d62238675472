// WGSL flash-style attention, forward and backward (see Kernels.attentionForward/Backward and
// src/backend/js/attention.ts). Scores are never stored: the forward keeps a running max m, sum l
// and output accumulator per query row (online softmax) and saves lse = m + log l; the backward
// recomputes p = exp(score - lse). A workgroup owns 64 consecutive rows of one head and stages
// tiles of the other side (keys for the forward and dq, queries for dk/dv) in workgroup memory;
// causal tiles entirely above the diagonal are skipped. Mask and bias: at most one of them reaches
// the kernels, so bindings stay within WebGPU's default 8 storage buffers per stage: when both are
// given, a pre-pass folds them into one full (B, H, T, S) bias with -inf where the mask is false.
import type { AttentionDims } from "../kernels.js";
import { type GpuArray, type GpuContext, grid, INDEX_WGSL, Params, PARAMS_WGSL, WG } from "./context.js";

type Mod = "none" | "mask" | "bias";
const TILE_FLOATS = 3840; // of the 16 KiB default workgroup storage, leaving room for small arrays

interface Prepared { mod: Mod; arr: GpuArray | null; strides: readonly number[] }

/** Reduces (mask, bias) to at most one score modifier; see the file comment. */
function prepare(ctx: GpuContext, mask: GpuArray | null, bias: GpuArray | null, d: AttentionDims): Prepared {
  const ms = d.maskStrides, bs = d.biasStrides;
  if (mask && bias && ms && bs) {
    const { B, H, T, S } = d;
    const full = ctx.tempArray("float32", B * H * T * S);
    const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> Mk: array<u32>;
@group(0) @binding(3) var<storage, read> Bi: array<f32>;
${INDEX_WGSL}
  if (i >= pu(0) * pu(1) * pu(2) * pu(3)) { return; }
  let s = i % pu(3); let t = (i / pu(3)) % pu(2); let h = (i / (pu(3) * pu(2))) % pu(1); let b = i / (pu(3) * pu(2) * pu(1));
  let mi = b * pu(4) + h * pu(5) + t * pu(6) + s * pu(7);
  let bi = b * pu(8) + h * pu(9) + t * pu(10) + s * pu(11);
  out[i] = select(neginf_(), Bi[bi], Mk[mi] != 0u);
}`;
    const p = new Params().u(B).u(H).u(T).u(S);
    for (const x of [...ms, ...bs]) p.u(x);
    ctx.run(code, p, [full, mask, bias], grid(Math.ceil((B * H * T * S) / WG)));
    return { mod: "bias", arr: full, strides: [H * T * S, T * S, S, 1] };
  }
  if (mask && ms) return { mod: "mask", arr: mask, strides: ms };
  if (bias && bs) return { mod: "bias", arr: bias, strides: bs };
  return { mod: "none", arr: null, strides: [0, 0, 0, 0] };
}

/** Params shared by every attention kernel: 0 B, 1 H, 2 G, 3 T, 4 S, 5 scale, 6 causal offset, 7-10 modifier strides. */
function attnParams(d: AttentionDims, pr: Prepared): Params {
  const p = new Params().u(d.B).u(d.H).u(d.G).u(d.T).u(d.S).f(d.scale).i(d.causalOffset ?? 0);
  for (const s of pr.strides) p.u(s);
  return p;
}

/** WGSL: allowed(b, h, t, s) and bias(b, h, t, s) for the chosen modifier, bound at `binding`. */
function modWgsl(mod: Mod, causal: boolean, binding: number): string {
  const decl = mod === "mask" ? `@group(0) @binding(${binding}) var<storage, read> Md: array<u32>;`
    : mod === "bias" ? `@group(0) @binding(${binding}) var<storage, read> Md: array<f32>;` : "";
  const idx = "b * pu(7) + h * pu(8) + t * pu(9) + s * pu(10)";
  return `${decl}
fn allowed(b: u32, h: u32, t: u32, s: u32) -> bool {
  return ${causal ? "i32(s) <= i32(t) + pi(6)" : "true"}${mod === "mask" ? ` && Md[${idx}] != 0u` : ""};
}
fn addBias(b: u32, h: u32, t: u32, s: u32) -> f32 { return ${mod === "bias" ? `Md[${idx}]` : "0.0"}; }`;
}

/** Rows per workgroup: 64, or fewer for short sequences (decoding, T = 1), so threads are not idle. */
function rowTile(n: number): number {
  let r = 1;
  while (r < Math.min(n, WG)) r *= 2;
  return r;
}

function tileRows(width: number): number {
  return Math.max(1, Math.min(64, Math.floor(TILE_FLOATS / width)));
}

export function attentionForward(ctx: GpuContext, out: GpuArray, lse: GpuArray, weights: GpuArray | null, q: GpuArray, k: GpuArray, v: GpuArray, mask: GpuArray | null, bias: GpuArray | null, d: AttentionDims): void {
  const { B, H, T, S, D, Dv } = d;
  const pr = prepare(ctx, mask, bias, d);
  const causal = d.causalOffset !== null;
  const KT = tileRows(D + Dv), R = rowTile(T);
  const code = `${PARAMS_WGSL}
const D = ${D}u; const DV = ${Dv}u; const KT = ${KT}u;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read> Q: array<f32>;
@group(0) @binding(4) var<storage, read> K: array<f32>;
@group(0) @binding(5) var<storage, read> V: array<f32>;
${modWgsl(pr.mod, causal, 6)}
var<workgroup> Ks: array<f32, ${KT * D}>;
var<workgroup> Vs: array<f32, ${KT * Dv}>;
@compute @workgroup_size(${R})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let H = pu(1); let G = pu(2); let T = pu(3); let S = pu(4); let scale = pf(5);
  let b = wid.z; let h = wid.y; let g = h / (H / G);
  let t = wid.x * ${R}u + li;
  let valid = t < T;
  let row = (b * H + h) * T + t;
  var q: array<f32, D>;
  var acc: array<f32, DV>;
  if (valid) { for (var i = 0u; i < D; i++) { q[i] = Q[row * D + i]; } }
  var m = -3.0e38;
  var l = 0.0;
  // keys past the last row's causal limit are masked for the whole workgroup: skip their tiles
  var sEnd = S;
  ${causal ? "sEnd = u32(clamp(i32(min(T, wid.x * " + R + "u + " + R + "u)) + pi(6), 0, i32(S)));" : ""}
  let kvo = (b * G + g) * S;
  for (var s0 = 0u; s0 < sEnd; s0 += KT) {
    for (var e = li; e < KT * D; e += ${R}u) { Ks[e] = K[(kvo + s0) * D + e]; }
    for (var e = li; e < KT * DV; e += ${R}u) { Vs[e] = V[(kvo + s0) * DV + e]; }
    workgroupBarrier();
    if (valid) {
      for (var j = 0u; j < KT && s0 + j < S; j++) {
        let s = s0 + j;
        if (!allowed(b, h, t, s)) { continue; }
        var dot = 0.0;
        for (var i = 0u; i < D; i++) { dot += q[i] * Ks[j * D + i]; }
        let sc = dot * scale + addBias(b, h, t, s);
        if (sc > m) {
          let corr = exp(m - sc);
          l *= corr;
          for (var i = 0u; i < DV; i++) { acc[i] *= corr; }
          m = sc;
        }
        let p = exp(sc - m);
        l += p;
        for (var i = 0u; i < DV; i++) { acc[i] += p * Vs[j * DV + i]; }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    // l == 0: no allowed key (or all scores -inf): zeros and lse = -inf, as the reference
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var i = 0u; i < DV; i++) { out[row * DV + i] = acc[i] * inv; }
    lse[row] = select(neginf_(), m + log(l), l > 0.0);
  }
}`;
  const arrays = [out, lse, q, k, v];
  if (pr.arr) arrays.push(pr.arr);
  ctx.run(code, attnParams(d, pr), arrays, [Math.ceil(T / R), H, B]);
  if (weights) attentionWeights(ctx, weights, lse, q, k, pr, d);
}

/** weights[b, h, t, s] = exp(score - lse), 0 where not allowed; one thread per weight. */
function attentionWeights(ctx: GpuContext, weights: GpuArray, lse: GpuArray, q: GpuArray, k: GpuArray, pr: Prepared, d: AttentionDims): void {
  const { B, H, T, S, D } = d;
  const code = `${PARAMS_WGSL}
const D = ${D}u;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> Q: array<f32>;
@group(0) @binding(4) var<storage, read> K: array<f32>;
${modWgsl(pr.mod, d.causalOffset !== null, 5)}
${INDEX_WGSL}
  let H = pu(1); let G = pu(2); let T = pu(3); let S = pu(4);
  if (i >= pu(0) * H * T * S) { return; }
  let s = i % S; let row = i / S; let t = row % T; let h = (row / T) % H; let b = row / (T * H);
  let g = h / (H / G);
  let L = lse[row];
  if (L == neginf_() || !allowed(b, h, t, s)) { W[i] = 0.0; return; }
  var dot = 0.0;
  for (var j = 0u; j < D; j++) { dot += Q[row * D + j] * K[((b * G + g) * S + s) * D + j]; }
  W[i] = exp(dot * pf(5) + addBias(b, h, t, s) - L);
}`;
  const arrays = [weights, lse, q, k];
  if (pr.arr) arrays.push(pr.arr);
  ctx.run(code, attnParams(d, pr), arrays, grid(Math.ceil((B * H * T * S) / WG)));
}

export function attentionBackward(ctx: GpuContext, dq: GpuArray, dk: GpuArray, dv: GpuArray, dbias: GpuArray | null, dout: GpuArray, q: GpuArray, k: GpuArray, v: GpuArray, out: GpuArray, lse: GpuArray, mask: GpuArray | null, bias: GpuArray | null, d: AttentionDims): void {
  const { B, H, G, T, S, D, Dv } = d;
  const pr = prepare(ctx, mask, bias, d);
  const causal = d.causalOffset !== null;
  const rowsN = B * H * T;
  // ld[2 r] = lse, ld[2 r + 1] = delta = dout . out = sum_s p_s dP_s (one buffer saves a binding)
  const ld = ctx.tempArray("float32", 2 * rowsN);
  ctx.run(`${PARAMS_WGSL}
const DV = ${Dv}u;
@group(0) @binding(1) var<storage, read_write> ld: array<f32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> dO: array<f32>;
@group(0) @binding(4) var<storage, read> O: array<f32>;
${INDEX_WGSL}
  if (i >= pu(0)) { return; }
  var dl = 0.0;
  for (var j = 0u; j < DV; j++) { dl += dO[i * DV + j] * O[i * DV + j]; }
  ld[2u * i] = lse[i];
  ld[2u * i + 1u] = dl;
}`, new Params().u(rowsN), [ld, lse, dout, out], grid(Math.ceil(rowsN / WG)));

  // dq (and dbias): a workgroup of query rows walks key tiles, as the forward
  const KT = tileRows(D + Dv), RQ = rowTile(T);
  const dqCode = `${PARAMS_WGSL}
const D = ${D}u; const DV = ${Dv}u; const KT = ${KT}u;
@group(0) @binding(1) var<storage, read_write> dQ: array<f32>;
@group(0) @binding(2) var<storage, read> ld: array<f32>;
@group(0) @binding(3) var<storage, read> Q: array<f32>;
@group(0) @binding(4) var<storage, read> K: array<f32>;
@group(0) @binding(5) var<storage, read> V: array<f32>;
@group(0) @binding(6) var<storage, read> dO: array<f32>;
${dbias ? "@group(0) @binding(7) var<storage, read_write> dBias: array<f32>;" : ""}
${modWgsl(pr.mod, causal, dbias ? 8 : 7)}
var<workgroup> Ks: array<f32, ${KT * D}>;
var<workgroup> Vs: array<f32, ${KT * Dv}>;
@compute @workgroup_size(${RQ})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let H = pu(1); let G = pu(2); let T = pu(3); let S = pu(4); let scale = pf(5);
  let b = wid.z; let h = wid.y; let g = h / (H / G);
  let t = wid.x * ${RQ}u + li;
  let row = (b * H + h) * T + t;
  var L = neginf_();
  var delta = 0.0;
  if (t < T) { L = ld[2u * row]; delta = ld[2u * row + 1u]; }
  let live = L != neginf_(); // false also for threads past T
  var q: array<f32, D>;
  var dov: array<f32, DV>;
  var acc: array<f32, D>;
  if (live) {
    for (var i = 0u; i < D; i++) { q[i] = Q[row * D + i]; }
    for (var i = 0u; i < DV; i++) { dov[i] = dO[row * DV + i]; }
  }
  var sEnd = S;
  ${causal ? "sEnd = u32(clamp(i32(min(T, wid.x * " + RQ + "u + " + RQ + "u)) + pi(6), 0, i32(S)));" : ""}
  let kvo = (b * G + g) * S;
  for (var s0 = 0u; s0 < sEnd; s0 += KT) {
    for (var e = li; e < KT * D; e += ${RQ}u) { Ks[e] = K[(kvo + s0) * D + e]; }
    for (var e = li; e < KT * DV; e += ${RQ}u) { Vs[e] = V[(kvo + s0) * DV + e]; }
    workgroupBarrier();
    if (live) {
      for (var j = 0u; j < KT && s0 + j < S; j++) {
        let s = s0 + j;
        if (!allowed(b, h, t, s)) { continue; }
        var dot = 0.0;
        for (var i = 0u; i < D; i++) { dot += q[i] * Ks[j * D + i]; }
        let p = exp(dot * scale + addBias(b, h, t, s) - L);
        var dp = 0.0;
        for (var i = 0u; i < DV; i++) { dp += dov[i] * Vs[j * DV + i]; }
        let ds = p * (dp - delta);
        ${dbias ? "dBias[row * S + s] += ds;" : ""}
        for (var i = 0u; i < D; i++) { acc[i] += scale * ds * Ks[j * D + i]; }
      }
    }
    workgroupBarrier();
  }
  if (live) { for (var i = 0u; i < D; i++) { dQ[row * D + i] += acc[i]; } }
}`;
  const dqArrays = [dq, ld, q, k, v, dout];
  if (dbias) dqArrays.push(dbias);
  if (pr.arr) dqArrays.push(pr.arr);
  ctx.run(dqCode, attnParams(d, pr), dqArrays, [Math.ceil(T / RQ), H, B]);

  // dk, dv: a workgroup of key rows of one kv head walks query tiles of every head in its group
  const QT = tileRows(D + Dv + 2), RK = rowTile(S);
  const kvCode = `${PARAMS_WGSL}
const D = ${D}u; const DV = ${Dv}u; const QT = ${QT}u;
@group(0) @binding(1) var<storage, read_write> dK: array<f32>;
@group(0) @binding(2) var<storage, read_write> dV: array<f32>;
@group(0) @binding(3) var<storage, read> ld: array<f32>;
@group(0) @binding(4) var<storage, read> Q: array<f32>;
@group(0) @binding(5) var<storage, read> K: array<f32>;
@group(0) @binding(6) var<storage, read> V: array<f32>;
@group(0) @binding(7) var<storage, read> dO: array<f32>;
${modWgsl(pr.mod, causal, 8)}
var<workgroup> Qs: array<f32, ${QT * D}>;
var<workgroup> dOs: array<f32, ${QT * Dv}>;
var<workgroup> LDs: array<f32, ${QT * 2}>;
@compute @workgroup_size(${RK})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let H = pu(1); let G = pu(2); let T = pu(3); let S = pu(4); let scale = pf(5);
  let b = wid.z; let g = wid.y; let R = H / G;
  let s = wid.x * ${RK}u + li;
  let valid = s < S;
  let kr = (b * G + g) * S + s;
  var kk: array<f32, D>;
  var vv: array<f32, DV>;
  var dka: array<f32, D>;
  var dva: array<f32, DV>;
  if (valid) {
    for (var i = 0u; i < D; i++) { kk[i] = K[kr * D + i]; }
    for (var i = 0u; i < DV; i++) { vv[i] = V[kr * DV + i]; }
  }
  // queries before the first key's causal limit never see any key of this workgroup
  var tStart = 0u;
  ${causal ? "tStart = u32(clamp(i32(wid.x * " + RK + "u) - pi(6), 0, i32(T)));" : ""}
  for (var h = g * R; h < g * R + R; h++) {
    let qo = (b * H + h) * T;
    for (var t0 = tStart; t0 < T; t0 += QT) {
      for (var e = li; e < QT * D; e += ${RK}u) { Qs[e] = Q[(qo + t0) * D + e]; }
      for (var e = li; e < QT * DV; e += ${RK}u) { dOs[e] = dO[(qo + t0) * DV + e]; }
      for (var e = li; e < QT * 2u; e += ${RK}u) { LDs[e] = ld[(qo + t0) * 2u + e]; }
      workgroupBarrier();
      if (valid) {
        for (var j = 0u; j < QT && t0 + j < T; j++) {
          let t = t0 + j;
          let L = LDs[2u * j];
          if (L == neginf_() || !allowed(b, h, t, s)) { continue; }
          var dot = 0.0;
          for (var i = 0u; i < D; i++) { dot += Qs[j * D + i] * kk[i]; }
          let p = exp(dot * scale + addBias(b, h, t, s) - L);
          var dp = 0.0;
          for (var i = 0u; i < DV; i++) { dp += dOs[j * DV + i] * vv[i]; dva[i] += p * dOs[j * DV + i]; }
          let ds = p * (dp - LDs[2u * j + 1u]);
          for (var i = 0u; i < D; i++) { dka[i] += scale * ds * Qs[j * D + i]; }
        }
      }
      workgroupBarrier();
    }
  }
  if (valid) {
    for (var i = 0u; i < D; i++) { dK[kr * D + i] += dka[i]; }
    for (var i = 0u; i < DV; i++) { dV[kr * DV + i] += dva[i]; }
  }
}`;
  const kvArrays = [dk, dv, ld, q, k, v, dout];
  if (pr.arr) kvArrays.push(pr.arr);
  ctx.run(kvCode, attnParams(d, pr), kvArrays, [Math.ceil(S / RK), G, B]);
}
