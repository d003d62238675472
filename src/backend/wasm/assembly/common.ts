// Shared helpers of the kernels: vector exp/tanh, fused multiply-add, the packed 6x8 micro-kernel,
// panel packing, and the dynamic work counter. Compiled by AssemblyScript (scripts/build-wasm.mjs), not by tsc.

/** a * b + c; one rounding with relaxed SIMD, two without. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Next unit of work from a shared counter; every thread calls this until it returns >= n. */
@inline export function nextUnit(counter: usize): i32 {
  return atomic.add<i32>(counter, 1);
}

// Cephes expf: exp(x) = 2^n e^r, r = x - n ln 2 in [-ln2/2, ln2/2], degree-6 polynomial for e^r.
// n = round(x log2 e) by the 1.5*2^23 magic number, whose float bits then hold n (no floor, no
// float-to-int conversion). Below -87.9 the exponent bits are 0, so exp(-Infinity) = 0 exactly.
@inline export function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.splat(88.3762626647949), x);
  x = f32x4.max(f32x4.splat(-87.9), x);
  const t = madd(x, f32x4.splat(1.44269504088896341), f32x4.splat(12582912.0));
  const fx = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = madd(fx, f32x4.splat(-0.693359375), x);
  r = madd(fx, f32x4.splat(2.12194440e-4), r);
  let y = f32x4.splat(1.9875691500e-4);
  y = madd(y, r, f32x4.splat(1.3981999507e-3));
  y = madd(y, r, f32x4.splat(8.3334519073e-3));
  y = madd(y, r, f32x4.splat(4.1665795894e-2));
  y = madd(y, r, f32x4.splat(1.6666665459e-1));
  y = madd(y, r, f32x4.splat(5.0000001201e-1));
  y = madd(y, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1.0)));
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4B400000)), 23);
  return f32x4.mul(y, pow2);
}

// Cephes tanhf: odd polynomial for |x| < 0.625 (no cancellation near 0), 1 - 2 / (e^2|x| + 1) above.
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = madd(p, z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(x, z), p, x);
  const e = vexp(f32x4.add(ax, ax));
  let big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  big = v128.bitselect(f32x4.neg(big), big, f32x4.lt(x, f32x4.splat(0)));
  return v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
}

@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * Packs op(B) (K, N) into column panels of 8: bp[jb][k][0:8], zero-padded past N.
 * op(B)[k, j] is at b + (trans ? j*K + k : k*N + j) * 4. Panels jb in [j0, j1).
 */
export function packPanels(bp: usize, b: usize, K: i32, N: i32, trans: bool, jb0: i32, jb1: i32): void {
  for (let jb = jb0; jb < jb1; jb++) {
    const dst = bp + <usize>jb * <usize>K * 32;
    const j0 = jb * 8, nr = min(8, N - j0);
    if (!trans && nr == 8) {
      for (let k = 0; k < K; k++) {
        const src = b + ((<usize>k * <usize>N + <usize>j0) << 2);
        v128.store(dst + (<usize>k << 5), v128.load(src));
        v128.store(dst + (<usize>k << 5), v128.load(src, 16), 16);
      }
      continue;
    }
    for (let k = 0; k < K; k++) {
      const d = dst + (<usize>k << 5);
      v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16);
      for (let j = 0; j < nr; j++) {
        const idx = trans ? <usize>(j0 + j) * <usize>K + <usize>k : <usize>k * <usize>N + <usize>(j0 + j);
        store<f32>(d + (<usize>j << 2), load<f32>(b + (idx << 2)));
      }
    }
  }
}

/**
 * The 6x8 register tile: C[r, 0:8] += sum_k A[r, k] * B[k, 0:8] for r < mr, j < nr. A is packed,
 * ap[k][0:6] (24 bytes per k); B rows are 8 floats bKs bytes apart (32 when packed), so every load is
 * an immediate offset from one of two moving pointers. Rows r >= mr and columns j >= nr are computed
 * from whatever is there and discarded; tmp is 6*8 floats of scratch for such partial tiles.
 */
export function micro6x8p(ap: usize, bp: usize, bKs: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = ap + <usize>kc * 24;
  while (ap < end) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(ap, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(ap, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(ap, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    x = v128.load32_splat(ap, 20);
    c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    ap += 24;
    bp += bKs;
  }
  if (mr == 6 && nr == 8) {
    let p = c;
    v128.store(p, f32x4.add(v128.load(p), c00)); v128.store(p, f32x4.add(v128.load(p, 16), c01), 16); p += ldc;
    v128.store(p, f32x4.add(v128.load(p), c10)); v128.store(p, f32x4.add(v128.load(p, 16), c11), 16); p += ldc;
    v128.store(p, f32x4.add(v128.load(p), c20)); v128.store(p, f32x4.add(v128.load(p, 16), c21), 16); p += ldc;
    v128.store(p, f32x4.add(v128.load(p), c30)); v128.store(p, f32x4.add(v128.load(p, 16), c31), 16); p += ldc;
    v128.store(p, f32x4.add(v128.load(p), c40)); v128.store(p, f32x4.add(v128.load(p, 16), c41), 16); p += ldc;
    v128.store(p, f32x4.add(v128.load(p), c50)); v128.store(p, f32x4.add(v128.load(p, 16), c51), 16);
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16); v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80); v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  v128.store(tmp, c40, 128); v128.store(tmp, c41, 144); v128.store(tmp, c50, 160); v128.store(tmp, c51, 176);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) {
      const p = c + <usize>r * ldc + (<usize>j << 2);
      store<f32>(p, load<f32>(p) + load<f32>(tmp + (<usize>(r * 8 + j) << 2)));
    }
  }
}

/**
 * Packs rows [0, rows) x depth [0, kc) of A into 6-row panels ap[panel][k][0:6], where A(r, k) is
 * at a + r*aRs + k*aKs, times s; rows past the end repeat the last row (their results are discarded).
 */
export function packRows(ap: usize, a: usize, aRs: usize, aKs: usize, rows: i32, kc: i32, s: f32 = 1): void {
  for (let i = 0; i < rows; i += 6) {
    const last = <usize>(min(6, rows - i) - 1);
    const a0 = a + <usize>i * aRs;
    const dst = ap + <usize>(i / 6) * <usize>kc * 24;
    for (let r: usize = 0; r < 6; r++) {
      let src = a0 + min(r, last) * aRs;
      let d = dst + (r << 2);
      for (let k = 0; k < kc; k++) {
        store<f32>(d, load<f32>(src) * s);
        src += aKs;
        d += 24;
      }
    }
  }
}
