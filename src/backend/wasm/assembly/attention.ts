// FlashAttention-style forward and backward for one (batch, head): query tiles of BR rows against
// key tiles of BC keys, online softmax, never the (T, S) score matrix. K (and V for the backward)
// arrive packed as 8-key panels (packPanels with trans = true), so Q K^T runs on the 6x8 micro-kernel.
import { hmax, hsum, madd, micro6x8p, nextUnit, packRows, vexp } from "./common";

const BR: i32 = 48;
const BC: i32 = 128;

/** Floats of per-thread scratch the kernels below need. */
export function attnScratchFloats(T: i32, D: i32, Dv: i32): i32 { // T: all query rows of the call
  return 64 + 2 * BR + 2 * BR * BC + BR * Dv + BC * D + BC * Dv + T * D + 2 * packFloats(D, Dv) + 16;
}

/** Floats of one packing buffer: up to 66 rows (BC rounded up to 6) of the widest operand. */
@inline function packFloats(D: i32, Dv: i32): i32 {
  return 66 * max(max(D, Dv), BC);
}

/** Byte offset of the private dQ in a thread's scratch (for the caller to zero). */
export function attnDqOffset(D: i32, Dv: i32): i32 {
  return <i32>dqOffset(D, Dv);
}

/** Byte offset of the private dQ (T, D) in a thread's scratch, after tmp, m, l, S, dP, O, dK, dV tiles. */
@inline function dqOffset(D: i32, Dv: i32): usize {
  return 256 + (<usize>(2 * BR + 2 * BR * BC + BR * Dv + BC * D + BC * Dv) << 2);
}

/** Scores tile st (rows x BC) = Qp K^T + bias (Qp packed with the scale), -Infinity where not allowed. */
@inline function scoreTile(st: usize, qp: usize, kp: usize, i0: i32, rows: i32, j0: i32, nc: i32, S: i32, D: i32, scale: f32,
  causal: bool, off: i32, mask: usize, mT: i32, mS: i32, bias: usize, bT: i32, bS: i32, tmp: usize): void {
  memory.fill(st, 0, <usize>(rows * BC) << 2);
  const npan = (nc + 7) >> 3;
  for (let jb = 0; jb < npan; jb++) {
    const panel = kp + <usize>((j0 >> 3) + jb) * <usize>D * 32;
    for (let i = 0; i < rows; i += 6) {
      micro6x8p(qp + <usize>(i / 6) * <usize>D * 24, panel, 32, D, st + (<usize>(i * BC + jb * 8) << 2), <usize>BC << 2, min(6, rows - i), 8, tmp);
    }
  }
  for (let i = 0; i < rows; i++) {
    const t = i0 + i;
    const row = st + (<usize>(i * BC) << 2);
    if (!mask && !bias && nc == BC && (!causal || j0 + BC - 1 <= t + off)) continue;
    for (let j = 0; j < BC; j++) {
      const s = j0 + j;
      let val: f32 = -Infinity;
      if (j < nc && (!causal || s <= t + off) && (!mask || load<u8>(mask + <usize>t * <usize>mT + <usize>s * <usize>mS) != 0)) {
        val = load<f32>(row + (<usize>j << 2));
        if (bias) val += load<f32>(bias + ((<usize>t * <usize>bT + <usize>s * <usize>bS) << 2));
      }
      store<f32>(row + (<usize>j << 2), val);
    }
  }
}

/**
 * out (NB, H, T, Dv), lse (NB, H, T); q (NB, H, T, D), kp packed K per (batch, kv head), v (NB, G, S, Dv).
 * Query head h reads kv head h / (H / G); mask/bias head (b, h) starts at b*mB + h*mH elements.
 */
export function attnForward(out0: usize, lse0: usize, q0: usize, kp0: usize, v0: usize, NB: i32, H: i32, G: i32, T: i32, S: i32, D: i32, Dv: i32, scale: f32,
  causal: bool, off: i32, mask0: usize, mB: i32, mH: i32, mT: i32, mS: i32, bias0: usize, bB: i32, bH: i32, bT: i32, bS: i32, counter: usize, scratch: usize, sstride: usize, t: i32): void {
  const base = scratch + <usize>t * sstride;
  const tmp = base, mrow = base + 256, lrow = mrow + (<usize>BR << 2), st = lrow + (<usize>BR << 2);
  const ot = st + (<usize>(BR * BC) << 2);
  const qp = base + dqOffset(D, Dv) + (<usize>(T * D) << 2), pp = qp + (<usize>packFloats(D, Dv) << 2);
  const nqb = (T + BR - 1) / BR, units = NB * H * nqb, per = H / G;
  const kpStride = <usize>((S + 7) >> 3) * <usize>D * 32;
  const ldo = <usize>Dv << 2;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const bh = u / nqb, b = bh / H, h = bh % H, bg = b * G + h / per;
    const q = q0 + (<usize>bh * <usize>T * <usize>D << 2), out = out0 + <usize>bh * <usize>T * ldo, lse = lse0 + (<usize>bh * <usize>T << 2);
    const kp = kp0 + <usize>bg * kpStride, v = v0 + <usize>bg * <usize>S * ldo;
    const mask = mask0 ? mask0 + <usize>b * <usize>mB + <usize>h * <usize>mH : 0;
    const bias = bias0 ? bias0 + ((<usize>b * <usize>bB + <usize>h * <usize>bH) << 2) : 0;
    const i0 = (u % nqb) * BR, rows = min(BR, T - i0);
    packRows(qp, q + (<usize>i0 * <usize>D << 2), <usize>D << 2, 4, rows, D, scale); // scores = (scale q) . k
    memory.fill(ot, 0, <usize>(rows * Dv) << 2);
    for (let i = 0; i < rows; i++) { store<f32>(mrow + (<usize>i << 2), -Infinity); store<f32>(lrow + (<usize>i << 2), 0); }
    const jEnd = causal ? min(S, i0 + rows + off) : S; // keys past the last row's diagonal are never allowed
    for (let j0 = 0; j0 < jEnd; j0 += BC) {
      const nc = min(BC, S - j0);
      scoreTile(st, qp, kp, i0, rows, j0, nc, S, D, scale, causal, off, mask, mT, mS, bias, bT, bS, tmp);
      for (let i = 0; i < rows; i++) {
        const row = st + (<usize>(i * BC) << 2);
        let mx = f32x4.splat(-Infinity);
        for (let j = 0; j < BC; j += 4) mx = f32x4.max(mx, v128.load(row + (<usize>j << 2)));
        const mOld = load<f32>(mrow + (<usize>i << 2));
        const mNew = max(mOld, hmax(mx));
        if (mNew == -Infinity) {
          const pr = pp + <usize>(i / 6) * <usize>nc * 24 + (<usize>(i % 6) << 2);
          for (let j = 0; j < nc; j++) store<f32>(pr + <usize>j * 24, 0);
          continue;
        }
        const mv = f32x4.splat(mNew);
        let acc = f32x4.splat(0);
        // P goes straight into the packed 6-row panels that the P V product reads: pp[i/6][j][i%6]
        const pr = pp + <usize>(i / 6) * <usize>nc * 24 + (<usize>(i % 6) << 2);
        for (let j = 0; j < BC; j += 4) {
          const p = vexp(f32x4.sub(v128.load(row + (<usize>j << 2)), mv));
          acc = f32x4.add(acc, p);
          const d = pr + <usize>j * 24;
          if (j + 4 <= nc) {
            store<f32>(d, f32x4.extract_lane(p, 0)); store<f32>(d, f32x4.extract_lane(p, 1), 24);
            store<f32>(d, f32x4.extract_lane(p, 2), 48); store<f32>(d, f32x4.extract_lane(p, 3), 72);
          } else {
            if (j < nc) store<f32>(d, f32x4.extract_lane(p, 0));
            if (j + 1 < nc) store<f32>(d, f32x4.extract_lane(p, 1), 24);
            if (j + 2 < nc) store<f32>(d, f32x4.extract_lane(p, 2), 48);
          }
        }
        const alpha = f32x4.extract_lane(vexp(f32x4.splat(mOld - mNew)), 0);
        store<f32>(lrow + (<usize>i << 2), load<f32>(lrow + (<usize>i << 2)) * alpha + hsum(acc));
        store<f32>(mrow + (<usize>i << 2), mNew);
        if (alpha != 1) {
          const o = ot + <usize>i * ldo, av = f32x4.splat(alpha);
          let c = 0;
          for (; c + 4 <= Dv; c += 4) v128.store(o + (<usize>c << 2), f32x4.mul(v128.load(o + (<usize>c << 2)), av));
          for (; c < Dv; c++) store<f32>(o + (<usize>c << 2), load<f32>(o + (<usize>c << 2)) * alpha);
        }
      }
      for (let c0 = 0; c0 < Dv; c0 += 8) {
        for (let i = 0; i < rows; i += 6) {
          micro6x8p(pp + <usize>(i / 6) * <usize>nc * 24, v + ((<usize>j0 * <usize>Dv + <usize>c0) << 2), ldo, nc, ot + <usize>i * ldo + (<usize>c0 << 2), ldo, min(6, rows - i), min(8, Dv - c0), tmp);
        }
      }
    }
    for (let i = 0; i < rows; i++) {
      const l = load<f32>(lrow + (<usize>i << 2));
      const o = out + <usize>(i0 + i) * ldo, src = ot + <usize>i * ldo;
      if (l == 0) {
        memory.fill(o, 0, ldo);
        store<f32>(lse + (<usize>(i0 + i) << 2), -Infinity);
        continue;
      }
      for (let c = 0; c < Dv; c++) store<f32>(o + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) / l);
      store<f32>(lse + (<usize>(i0 + i) << 2), <f32>(<f64>load<f32>(mrow + (<usize>i << 2)) + Math.log(<f64>l)));
    }
  }
}

/** delta[t] = dout[t] . out[t], the row sums of P * dP that the backward subtracts. */
export function attnDelta(delta: usize, dout: usize, out: usize, T: i32, Dv: i32): void { // T: all rows
  for (let t = 0; t < T; t++) {
    const o = <usize>t * <usize>Dv << 2;
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= Dv; c += 4) acc = madd(v128.load(dout + o + (<usize>c << 2)), v128.load(out + o + (<usize>c << 2)), acc);
    let s = hsum(acc);
    for (; c < Dv; c++) s += load<f32>(dout + o + (<usize>c << 2)) * load<f32>(out + o + (<usize>c << 2));
    store<f32>(delta + (<usize>t << 2), s);
  }
}

/**
 * Gradients for one head, one unit per key tile: dk, dv (S rows) += directly (each tile owns its
 * keys); dq is accumulated unscaled into the thread's private (T, D) buffer, summed by attnSumDq.
 * dbias (T, S) of this head when not 0.
 */
export function attnBackward(dk0: usize, dv0: usize, dbias0: usize, dout0: usize, q0: usize, k0: usize, kp0: usize, vp0: usize, lse0: usize, delta0: usize,
  NB: i32, H: i32, G: i32, T: i32, S: i32, D: i32, Dv: i32, scale: f32, causal: bool, off: i32, mask0: usize, mB: i32, mH: i32, mT: i32, mS: i32,
  bias0: usize, bB: i32, bH: i32, bT: i32, bS: i32, counter: usize, scratch: usize, sstride: usize, t: i32): void {
  const base = scratch + <usize>t * sstride;
  const tmp = base, st = base + 256 + (<usize>(2 * BR) << 2), dpt = st + (<usize>(BR * BC) << 2);
  const dkt = dpt + (<usize>(BR * BC) << 2) + (<usize>(BR * Dv) << 2), dvt = dkt + (<usize>(BC * D) << 2);
  const dq0 = base + dqOffset(D, Dv), pk = dq0 + (<usize>(NB * H * T * D) << 2);
  const nkb = (S + BC - 1) / BC, units = NB * G * nkb, per = H / G;
  const ldd = <usize>D << 2, ldv = <usize>Dv << 2, ldt = <usize>BC << 2;
  const kpStride = <usize>((S + 7) >> 3) * <usize>D * 32, vpStride = <usize>((S + 7) >> 3) * <usize>Dv * 32;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const bg = u / nkb, b = bg / G, g = bg % G;
    const j0 = (u % nkb) * BC, nc = min(BC, S - j0);
    const k = k0 + <usize>bg * <usize>S * ldd, kp = kp0 + <usize>bg * kpStride, vp = vp0 + <usize>bg * vpStride;
    const dk = dk0 + <usize>bg * <usize>S * ldd, dv = dv0 + <usize>bg * <usize>S * ldv;
    memory.fill(dkt, 0, <usize>(BC * D) << 2);
    memory.fill(dvt, 0, <usize>(BC * Dv) << 2);
    for (let h = g * per; h < (g + 1) * per; h++) {
    const bh = b * H + h;
    const q = q0 + <usize>bh * <usize>T * ldd, dout = dout0 + <usize>bh * <usize>T * ldv, dq = dq0 + <usize>bh * <usize>T * ldd;
    const lse = lse0 + (<usize>bh * <usize>T << 2), delta = delta0 + (<usize>bh * <usize>T << 2);
    const dbias = dbias0 ? dbias0 + (<usize>bh * <usize>T * <usize>S << 2) : 0;
    const mask = mask0 ? mask0 + <usize>b * <usize>mB + <usize>h * <usize>mH : 0;
    const bias = bias0 ? bias0 + ((<usize>b * <usize>bB + <usize>h * <usize>bH) << 2) : 0;
    const iStart = causal ? max(0, j0 - off) : 0; // first query that may see key j0
    for (let i0 = (iStart / BR) * BR; i0 < T; i0 += BR) {
      const rows = min(BR, T - i0);
      packRows(pk, q + (<usize>i0 * ldd), ldd, 4, rows, D, scale);
      scoreTile(st, pk, kp, i0, rows, j0, nc, S, D, scale, causal, off, mask, mT, mS, bias, bT, bS, tmp);
      // P = exp(s - lse); rows with no allowed key (lse = -inf) get none
      for (let i = 0; i < rows; i++) {
        const row = st + (<usize>(i * BC) << 2);
        const l = load<f32>(lse + (<usize>(i0 + i) << 2));
        if (l == -Infinity) { memory.fill(row, 0, ldt); continue; }
        const lv = f32x4.splat(l);
        for (let j = 0; j < BC; j += 4) v128.store(row + (<usize>j << 2), vexp(f32x4.sub(v128.load(row + (<usize>j << 2)), lv)));
      }
      // dV[j] += sum_i P[i, j] dO[i]
      packRows(pk, st, 4, ldt, nc, rows);
      for (let c0 = 0; c0 < Dv; c0 += 8) {
        for (let j = 0; j < nc; j += 6) {
          micro6x8p(pk + <usize>(j / 6) * <usize>rows * 24, dout + <usize>i0 * ldv + (<usize>c0 << 2), ldv, rows, dvt + <usize>j * ldv + (<usize>c0 << 2), ldv, min(6, nc - j), min(8, Dv - c0), tmp);
        }
      }
      // dP = dO V^T
      memory.fill(dpt, 0, <usize>(rows * BC) << 2);
      const npan = (nc + 7) >> 3;
      packRows(pk, dout + <usize>i0 * ldv, ldv, 4, rows, Dv);
      for (let jb = 0; jb < npan; jb++) {
        const panel = vp + <usize>((j0 >> 3) + jb) * <usize>Dv * 32;
        for (let i = 0; i < rows; i += 6) {
          micro6x8p(pk + <usize>(i / 6) * <usize>Dv * 24, panel, 32, Dv, dpt + (<usize>(i * BC + jb * 8) << 2), ldt, min(6, rows - i), 8, tmp);
        }
      }
      // dS = P * (dP - delta)
      for (let i = 0; i < rows; i++) {
        const pr = st + (<usize>(i * BC) << 2), dr = dpt + (<usize>(i * BC) << 2);
        const dl = f32x4.splat(load<f32>(delta + (<usize>(i0 + i) << 2)));
        for (let j = 0; j < BC; j += 4) {
          const q4 = <usize>j << 2;
          v128.store(dr + q4, f32x4.mul(v128.load(pr + q4), f32x4.sub(v128.load(dr + q4), dl)));
        }
        if (dbias) {
          const db = dbias + ((<usize>(i0 + i) * <usize>S + <usize>j0) << 2);
          for (let j = 0; j < nc; j++) store<f32>(db + (<usize>j << 2), load<f32>(db + (<usize>j << 2)) + load<f32>(dr + (<usize>j << 2)));
        }
      }
      // dK[j] += sum_i dS[i, j] Q[i]; dQ[i] += sum_j dS[i, j] K[j] (both scaled at the end)
      packRows(pk, dpt, 4, ldt, nc, rows);
      for (let c0 = 0; c0 < D; c0 += 8) {
        for (let j = 0; j < nc; j += 6) {
          micro6x8p(pk + <usize>(j / 6) * <usize>rows * 24, q + <usize>i0 * ldd + (<usize>c0 << 2), ldd, rows, dkt + <usize>j * ldd + (<usize>c0 << 2), ldd, min(6, nc - j), min(8, D - c0), tmp);
        }
      }
      packRows(pk, dpt, ldt, 4, rows, nc);
      for (let c0 = 0; c0 < D; c0 += 8) {
        for (let i = 0; i < rows; i += 6) {
          micro6x8p(pk + <usize>(i / 6) * <usize>nc * 24, k + <usize>j0 * ldd + (<usize>c0 << 2), ldd, nc, dq + <usize>(i0 + i) * ldd + (<usize>c0 << 2), ldd, min(6, rows - i), min(8, D - c0), tmp);
        }
      }
    }
    }
    for (let j = 0; j < nc; j++) {
      const kr = dk + <usize>(j0 + j) * ldd, tr = dkt + <usize>j * ldd;
      for (let c = 0; c < D; c++) store<f32>(kr + (<usize>c << 2), load<f32>(kr + (<usize>c << 2)) + scale * load<f32>(tr + (<usize>c << 2)));
      const vr = dv + <usize>(j0 + j) * ldv, wr = dvt + <usize>j * ldv;
      for (let c = 0; c < Dv; c++) store<f32>(vr + (<usize>c << 2), load<f32>(vr + (<usize>c << 2)) + load<f32>(wr + (<usize>c << 2)));
    }
  }
}

/** dq[i] += scale * sum over threads of their private dQ[i]; units of 64 rows. */
export function attnSumDq(dq: usize, T: i32, D: i32, Dv: i32, scale: f32, nThreads: i32, scratch: usize, sstride: usize, counter: usize): void {
  const off = scratch + dqOffset(D, Dv);
  const units = (T + 63) >> 6;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const r0 = u * 64, r1 = min(T, r0 + 64);
    for (let i = r0 * D; i < r1 * D; i++) {
      let s: f32 = 0;
      for (let th = 0; th < nThreads; th++) s += load<f32>(off + <usize>th * sstride + (<usize>i << 2));
      store<f32>(dq + (<usize>i << 2), load<f32>(dq + (<usize>i << 2)) + scale * s);
    }
  }
}
