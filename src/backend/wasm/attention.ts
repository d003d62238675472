// Fused attention through the wasm flash kernels. Small problems go in one call (all heads);
// large ones one (batch, kv group) at a time, so linear memory holds O(S * D) per head and never
// (T, S). Asked for the weights, it is the reference path.
import { jsKernels as js } from "../js/index.js";
import type { AttentionDims, FloatArray } from "../kernels.js";
import { alloc, commit, f32, reset, run, threadCount, u8, wasmRuntime } from "./runtime.js";

const useJs = (d: AttentionDims, arrays: (FloatArray | null)[]): boolean =>
  !arrays.every((x) => x === null || x instanceof Float32Array) || d.B * d.H * d.T * d.S * (d.D + d.Dv) < 1 << 13 || d.T === 0 || d.S === 0;

/** How one call is cut: NB batches x Hc query heads x Gc kv heads per chunk. */
interface Chunking { NB: number; Hc: number; Gc: number; per: number }

let chunkLimit = 1 << 22;

/** Largest problem (floats of q, k, v, out) done in one call; tests set 0 to force per-group chunks. */
export function setAttentionChunkLimit(floats: number): void {
  chunkLimit = floats;
}

function chunking(d: AttentionDims): Chunking {
  const per = d.H / d.G;
  const floats = d.B * (d.H * d.T * (d.D + d.Dv) + d.G * d.S * (d.D + d.Dv));
  return floats <= chunkLimit ? { NB: d.B, Hc: d.H, Gc: d.G, per } : { NB: 1, Hc: per, Gc: 1, per };
}

interface Plan { mask: number; bias: number; scratch: number; sstride: number }

/** Copies mask and bias whole (their strides may broadcast anywhere) and sizes per-thread scratch. */
function plan(d: AttentionDims, c: Chunking, mask: Uint8Array | null, bias: FloatArray | null): Plan {
  const pm = mask ? alloc(mask.length) : 0, pb = bias ? alloc(bias.length * 4) : 0;
  const sstride = (wasmRuntime()!.exports.attnScratchFloats(c.NB * c.Hc * d.T, d.D, d.Dv) * 4 + 63) & ~63;
  return { mask: pm, bias: pb, scratch: alloc(sstride * threadCount()), sstride };
}

function fill(p: Plan, mask: Uint8Array | null, bias: FloatArray | null): void {
  if (mask) u8(p.mask, mask.length).set(mask);
  if (bias) f32(p.bias, bias.length).set(bias);
}

/** Causal flag and offset, then mask and bias: base of chunk (b, first head h), (B, H, T, S) strides. */
function maskArgs(d: AttentionDims, p: Plan, b: number, h: number): number[] {
  const ms = d.maskStrides, bs = d.biasStrides;
  const m = ms && p.mask ? [p.mask + b * ms[0] + h * ms[1], ms[0], ms[1], ms[2], ms[3]] : [0, 0, 0, 0, 0];
  const bb = bs && p.bias ? [p.bias + (b * bs[0] + h * bs[1]) * 4, bs[0], bs[1], bs[2], bs[3]] : [0, 0, 0, 0, 0];
  return [d.causalOffset !== null ? 1 : 0, d.causalOffset ?? 0, ...m, ...bb];
}

export function attentionForward(out: FloatArray, lse: FloatArray, weights: FloatArray | null, q: FloatArray, k: FloatArray, v: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  if (weights || useJs(d, [out, lse, q, k, v, bias])) return js.attentionForward(out, lse, weights, q, k, v, mask, bias, d);
  const { B, H, G, T, S, D, Dv, scale } = d;
  const c = chunking(d), { NB, Hc, Gc, per } = c;
  const nq = NB * Hc * T, nkv = NB * Gc * S;
  reset();
  const p = plan(d, c, mask, bias);
  const pk = alloc(nkv * D * 4), pv = alloc(nkv * Dv * 4), pkp = alloc(NB * Gc * Math.ceil(S / 8) * D * 32);
  const pq = alloc(nq * D * 4), po = alloc(nq * Dv * 4), pl = alloc(nq * 4);
  commit();
  fill(p, mask, bias);
  for (let b = 0; b < B; b += NB) for (let g = 0; g < G; g += Gc) {
    const kv = b * G + g, row = b * H + g * per;
    f32(pk, nkv * D).set(k.subarray(kv * S * D, kv * S * D + nkv * D));
    f32(pv, nkv * Dv).set(v.subarray(kv * S * Dv, kv * S * Dv + nkv * Dv));
    f32(pq, nq * D).set(q.subarray(row * T * D, row * T * D + nq * D));
    run("matmulPack", [pkp, pk, NB * Gc, D, S, S * D, 1], nkv * D);
    run("attnForward", [po, pl, pq, pkp, pv, NB, Hc, Gc, T, S, D, Dv, scale, ...maskArgs(d, p, b, g * per)], 2 * nq * S * (D + Dv), [p.scratch, p.sstride]);
    out.set(f32(po, nq * Dv), row * T * Dv);
    lse.set(f32(pl, nq), row * T);
  }
}

export function attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, dbias: FloatArray | null, dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  if (useJs(d, [dq, dk, dv, dbias, dout, q, k, v, out, lse, bias])) return js.attentionBackward(dq, dk, dv, dbias, dout, q, k, v, out, lse, mask, bias, d);
  const { B, H, G, T, S, D, Dv, scale } = d;
  const c = chunking(d), { NB, Hc, Gc, per } = c;
  const nq = NB * Hc * T, nkv = NB * Gc * S, nt = threadCount();
  reset();
  const p = plan(d, c, mask, bias);
  const panels = NB * Gc * Math.ceil(S / 8);
  const pk = alloc(nkv * D * 4), pv = alloc(nkv * Dv * 4), pkp = alloc(panels * D * 32), pvp = alloc(panels * Dv * 32);
  const pdk = alloc(nkv * D * 4), pdv = alloc(nkv * Dv * 4);
  const pq = alloc(nq * D * 4), pdo = alloc(nq * Dv * 4), po = alloc(nq * Dv * 4), pl = alloc(nq * 4), pdl = alloc(nq * 4), pdq = alloc(nq * D * 4);
  const pdb = dbias ? alloc(nq * S * 4) : 0;
  commit();
  fill(p, mask, bias);
  const dqOff = wasmRuntime()!.exports.attnDqOffset(D, Dv);
  for (let b = 0; b < B; b += NB) for (let g = 0; g < G; g += Gc) {
    const kv = b * G + g, row = b * H + g * per;
    const kr = [kv * S * D, kv * S * D + nkv * D], vr = [kv * S * Dv, kv * S * Dv + nkv * Dv];
    const qr = [row * T * D, row * T * D + nq * D], or = [row * T * Dv, row * T * Dv + nq * Dv];
    f32(pk, nkv * D).set(k.subarray(kr[0], kr[1]));
    f32(pv, nkv * Dv).set(v.subarray(vr[0], vr[1]));
    f32(pdk, nkv * D).set(dk.subarray(kr[0], kr[1]));
    f32(pdv, nkv * Dv).set(dv.subarray(vr[0], vr[1]));
    f32(pq, nq * D).set(q.subarray(qr[0], qr[1]));
    f32(pdq, nq * D).set(dq.subarray(qr[0], qr[1]));
    f32(pdo, nq * Dv).set(dout.subarray(or[0], or[1]));
    f32(po, nq * Dv).set(out.subarray(or[0], or[1]));
    f32(pl, nq).set(lse.subarray(row * T, row * T + nq));
    if (dbias) f32(pdb, nq * S).set(dbias.subarray(row * T * S, row * T * S + nq * S));
    for (let t = 0; t < nt; t++) f32(p.scratch + t * p.sstride + dqOff, nq * D).fill(0);
    run("matmulPack", [pkp, pk, NB * Gc, D, S, S * D, 1], nkv * D);
    run("matmulPack", [pvp, pv, NB * Gc, Dv, S, S * Dv, 1], nkv * Dv);
    wasmRuntime()!.exports.attnDelta(pdl, pdo, po, nq, Dv);
    run("attnBackward", [pdk, pdv, pdb, pdo, pq, pk, pkp, pvp, pl, pdl, NB, Hc, Gc, T, S, D, Dv, scale, ...maskArgs(d, p, b, g * per)], 5 * nq * S * (D + Dv), [p.scratch, p.sstride]);
    run("attnSumDq", [pdq, nq, D, Dv, scale, nt, p.scratch, p.sstride], nq * D * nt);
    dq.set(f32(pdq, nq * D), qr[0]);
    if (dbias) dbias.set(f32(pdb, nq * S), row * T * S);
    dk.set(f32(pdk, nkv * D), kr[0]);
    dv.set(f32(pdv, nkv * Dv), vr[0]);
  }
}
