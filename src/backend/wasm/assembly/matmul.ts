// Batched matmul: pack op(B) into 8-column panels (phase 1), then 6x8 register tiles over row
// blocks of op(A) read in place, transposed or not (phase 2). Work units are claimed from a shared
// counter so any number of threads can run the same call.
import { micro6x8p, nextUnit, packPanels, packRows } from "./common";

const MC: i32 = 48; // rows of C per work unit
const KC: i32 = 256; // depth of one pass, so a B panel slice (KC x 8 floats) stays in L1

/** Packs op(B) of each of `batch` matrices (bStride floats apart) into bp. */
export function matmulPack(bp: usize, b: usize, batch: i32, K: i32, N: i32, bStride: i32, transB: bool, counter: usize): void {
  const nJB = (N + 7) >> 3;
  const units = batch * nJB;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const p = u / nJB, jb = u % nJB;
    packPanels(bp + <usize>p * <usize>nJB * <usize>K * 32, b + (<usize>p * <usize>bStride << 2), K, N, transB, jb, jb + 1);
  }
}

/** c[p] += op(A[p]) . Bp[p or 0]; c is zeroed by the caller when not accumulating. */
export function matmulRun(c: usize, a: usize, bp: usize, batch: i32, M: i32, K: i32, N: i32, aStride: i32, transA: bool, bShared: bool, counter: usize, scratch: usize, sstride: usize, t: i32): void {
  const tmp = scratch + <usize>t * sstride, ap = tmp + 256; // ap: MC x KC packed rows of A
  const nJB = (N + 7) >> 3, nMB = (M + MC - 1) / MC;
  const units = batch * nMB;
  const aRs: usize = transA ? 4 : <usize>K << 2;
  const aKs: usize = transA ? <usize>M << 2 : 4;
  const ldc = <usize>N << 2;
  for (let u = nextUnit(counter); u < units; u = nextUnit(counter)) {
    const p = u / nMB, i0 = (u % nMB) * MC, i1 = min(M, i0 + MC);
    const pa = a + (<usize>p * <usize>aStride << 2);
    const bpp = bp + (bShared ? 0 : <usize>p * <usize>nJB * <usize>K * 32);
    const cp = c + (<usize>p * <usize>M * <usize>N << 2);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packRows(ap, pa + <usize>i0 * aRs + <usize>k0 * aKs, aRs, aKs, i1 - i0, kc);
      for (let jb = 0; jb < nJB; jb++) {
        const panel = bpp + (<usize>jb * <usize>K + <usize>k0) * 32;
        const nr = min(8, N - jb * 8);
        for (let i = i0; i < i1; i += 6) {
          micro6x8p(ap + <usize>((i - i0) / 6) * <usize>kc * 24, panel, 32, kc, cp + <usize>i * ldc + (<usize>jb << 5), ldc, min(6, i1 - i), nr, tmp);
        }
      }
    }
  }
}
