// Reference batched matmul: out[b] = op(A[b]) . op(B[b]); see Kernels.matmul.
import type { FloatArray } from "../kernels.js";

export function matmul(out: FloatArray, a: FloatArray, b: FloatArray, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  // element strides of op(A) (M, K) and op(B) (K, N)
  const aRow = transA ? 1 : K, aCol = transA ? M : 1;
  const bRow = transB ? 1 : N, bCol = transB ? K : 1;
  for (let p = 0; p < batch; p++) {
    const ao = p * aStride, bo = p * bStride, oo = p * M * N;
    for (let i = 0; i < M; i++) {
      const orow = oo + i * N;
      if (!accumulate) for (let j = 0; j < N; j++) out[orow + j] = 0;
      for (let kk = 0; kk < K; kk++) {
        const aik = a[ao + i * aRow + kk * aCol];
        const brow = bo + kk * bRow;
        for (let j = 0; j < N; j++) out[orow + j] += aik * b[brow + j * bCol];
      }
    }
  }
}
