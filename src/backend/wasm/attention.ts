// Fused attention through the wasm flash kernels, one (batch, kv-group) at a time so linear memory
// holds O(S * D) per head, not (T, S). Asked for the weights, it is the reference path.
import { jsKernels as js } from "../js/index.js";
import type { AttentionDims, FloatArray } from "../kernels.js";
import { alloc, commit, f32, reset, run, threadCount, u8, wasmRuntime } from "./runtime.js";

const useJs = (d: AttentionDims, arrays: (FloatArray | null)[]): boolean =>
  !arrays.every((x) => x === null || x instanceof Float32Array) || d.B * d.H * d.T * d.S * (d.D + d.Dv) < 1 << 14 || d.T === 0 || d.S === 0;

interface Plan { mask: number; bias: number; scratch: number; sstride: number }

/** Copies mask and bias whole (their strides may broadcast anywhere) and sizes per-thread scratch. */
function plan(d: AttentionDims, mask: Uint8Array | null, bias: FloatArray | null): Plan {
  const pm = mask ? alloc(mask.length) : 0, pb = bias ? alloc(bias.length * 4) : 0;
  const sstride = ((wasmRuntime()!.exports.attnScratchFloats(d.T, d.D, d.Dv) * 4 + 63) & ~63);
  return { mask: pm, bias: pb, scratch: alloc(sstride * threadCount()), sstride };
}

function fill(p: Plan, mask: Uint8Array | null, bias: FloatArray | null): void {
  if (mask) u8(p.mask, mask.length).set(mask);
  if (bias) f32(p.bias, bias.length).set(bias);
}

/** The per-head mask/bias arguments: base pointer and the (T, S) strides. */
function headArgs(d: AttentionDims, p: Plan, b: number, h: number): number[] {
  const ms = d.maskStrides, bs = d.biasStrides;
  const m = ms && p.mask ? [p.mask + b * ms[0] + h * ms[1], ms[2], ms[3]] : [0, 0, 0];
  const bb = bs && p.bias ? [p.bias + (b * bs[0] + h * bs[1]) * 4, bs[2], bs[3]] : [0, 0, 0];
  return [d.causalOffset !== null ? 1 : 0, d.causalOffset ?? 0, ...m, ...bb];
}

export function attentionForward(out: FloatArray, lse: FloatArray, weights: FloatArray | null, q: FloatArray, k: FloatArray, v: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  if (weights || useJs(d, [out, lse, q, k, v, bias])) return js.attentionForward(out, lse, weights, q, k, v, mask, bias, d);
  const { B, H, G, T, S, D, Dv, scale } = d;
  const per = H / G;
  reset();
  const p = plan(d, mask, bias);
  const pk = alloc(S * D * 4), pv = alloc(S * Dv * 4), pkp = alloc(Math.ceil(S / 8) * D * 32);
  const pq = alloc(T * D * 4), po = alloc(T * Dv * 4), pl = alloc(T * 4);
  commit();
  fill(p, mask, bias);
  for (let b = 0; b < B; b++) for (let g = 0; g < G; g++) {
    const kv = b * G + g;
    f32(pk, S * D).set(k.subarray(kv * S * D, (kv + 1) * S * D));
    f32(pv, S * Dv).set(v.subarray(kv * S * Dv, (kv + 1) * S * Dv));
    run("matmulPack", [pkp, pk, 1, D, S, 0, 1], S * D);
    for (let h = g * per; h < (g + 1) * per; h++) {
      const row = b * H + h;
      f32(pq, T * D).set(q.subarray(row * T * D, (row + 1) * T * D));
      run("attnForward", [po, pl, pq, pkp, pv, T, S, D, Dv, scale, ...headArgs(d, p, b, h)], 2 * T * S * (D + Dv), [p.scratch, p.sstride]);
      out.set(f32(po, T * Dv), row * T * Dv);
      lse.set(f32(pl, T), row * T);
    }
  }
}

export function attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, dbias: FloatArray | null, dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, d: AttentionDims): void {
  if (useJs(d, [dq, dk, dv, dbias, dout, q, k, v, out, lse, bias])) return js.attentionBackward(dq, dk, dv, dbias, dout, q, k, v, out, lse, mask, bias, d);
  const { B, H, G, T, S, D, Dv, scale } = d;
  const per = H / G, nt = threadCount();
  reset();
  const p = plan(d, mask, bias);
  const pk = alloc(S * D * 4), pv = alloc(S * Dv * 4), pkp = alloc(Math.ceil(S / 8) * D * 32), pvp = alloc(Math.ceil(S / 8) * Dv * 32);
  const pdk = alloc(S * D * 4), pdv = alloc(S * Dv * 4);
  const pq = alloc(T * D * 4), pdo = alloc(T * Dv * 4), po = alloc(T * Dv * 4), pl = alloc(T * 4), pdl = alloc(T * 4), pdq = alloc(T * D * 4);
  const pdb = dbias ? alloc(T * S * 4) : 0;
  commit();
  fill(p, mask, bias);
  const dqOff = wasmRuntime()!.exports.attnDqOffset(D, Dv);
  for (let b = 0; b < B; b++) for (let g = 0; g < G; g++) {
    const kv = b * G + g;
    f32(pk, S * D).set(k.subarray(kv * S * D, (kv + 1) * S * D));
    f32(pv, S * Dv).set(v.subarray(kv * S * Dv, (kv + 1) * S * Dv));
    f32(pdk, S * D).set(dk.subarray(kv * S * D, (kv + 1) * S * D));
    f32(pdv, S * Dv).set(dv.subarray(kv * S * Dv, (kv + 1) * S * Dv));
    run("matmulPack", [pkp, pk, 1, D, S, 0, 1], S * D);
    run("matmulPack", [pvp, pv, 1, Dv, S, 0, 1], S * Dv);
    for (let h = g * per; h < (g + 1) * per; h++) {
      const row = b * H + h;
      f32(pq, T * D).set(q.subarray(row * T * D, (row + 1) * T * D));
      f32(pdo, T * Dv).set(dout.subarray(row * T * Dv, (row + 1) * T * Dv));
      f32(po, T * Dv).set(out.subarray(row * T * Dv, (row + 1) * T * Dv));
      f32(pl, T).set(lse.subarray(row * T, (row + 1) * T));
      f32(pdq, T * D).set(dq.subarray(row * T * D, (row + 1) * T * D));
      if (dbias) f32(pdb, T * S).set(dbias.subarray(row * T * S, (row + 1) * T * S));
      for (let t = 0; t < nt; t++) f32(p.scratch + t * p.sstride + dqOff, T * D).fill(0);
      wasmRuntime()!.exports.attnDelta(pdl, pdo, po, T, Dv);
      run("attnBackward", [pdk, pdv, pdb, pdo, pq, pk, pkp, pvp, pl, pdl, T, S, D, Dv, scale, ...headArgs(d, p, b, h)], 5 * T * S * (D + Dv), [p.scratch, p.sstride]);
      run("attnSumDq", [pdq, T, D, Dv, scale, nt, p.scratch, p.sstride], T * D * nt);
      dq.set(f32(pdq, T * D), row * T * D);
      if (dbias) dbias.set(f32(pdb, T * S), row * T * S);
    }
    dk.set(f32(pdk, S * D), kv * S * D);
    dv.set(f32(pdv, S * Dv), kv * S * Dv);
  }
}
