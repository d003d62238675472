// Batched matrix multiply with NumPy semantics: (..., M, K) @ (..., K, N) -> (..., M, N).
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import type { DType, Storage } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { broadcastShapes, sizeOf } from "../util/shape.js";
import { cast } from "./cast.js";
import { asFloat, promote } from "./elementwise.js";
import { expand, reshape } from "./movement.js";

/**
 * out = a . b. 1-D operands are promoted as in NumPy (a vector on the left is a row, on the
 * right a column, and the added axis is removed again). Batch axes broadcast.
 */
export function matmul(x: Tensor, y: Tensor): Tensor {
  check(x instanceof Tensor && y instanceof Tensor, "matmul", "expected two Tensors");
  check(x.ndim >= 1 && y.ndim >= 1, "matmul", () => `expected operands of rank >= 1, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  const dtype: DType = promote(asFloat(x).dtype, asFloat(y).dtype);
  let a = cast(x, dtype), b = cast(y, dtype);
  if (a.ndim === 1) a = reshape(a, [1, a.shape[0]]);
  if (b.ndim === 1) b = reshape(b, [b.shape[0], 1]);
  const out = matmul2(a, b);
  // drop the axes added for 1-D operands
  let shape = [...out.shape];
  if (y.ndim === 1) shape = shape.slice(0, -1);
  if (x.ndim === 1) shape.splice(shape.length - (y.ndim === 1 ? 1 : 2), 1);
  return reshape(out, shape);
}

function matmul2(a: Tensor, b: Tensor): Tensor {
  const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1];
  const K2 = b.shape[b.ndim - 2], N = b.shape[b.ndim - 1];
  check(K === K2, "matmul", () => `inner dimensions must match, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const batchShape = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  // a weight (K, N) against a batch of rows: one (batch*M, K) @ (K, N) product
  if (b.ndim === 2) {
    const a2 = reshape(expand(a, [...batchShape, M, K]), [batch * M, K]);
    return reshape(gemm(a2, b, 1, batch * M, K, N), [...batchShape, M, N]);
  }
  const aFull = expand(a, [...batchShape, M, K]);
  const bFull = expand(b, [...batchShape, K, N]);
  return reshape(gemm(aFull, bFull, batch, M, K, N), [...batchShape, M, N]);
}

/**
 * A fresh product op(A) . op(B), op(A) (M, K) and op(B) (K, N) (transposed storage when asked), as
 * a tensor of `shape`: the building block of the single-batch backward rules (linear, matmulTransposed).
 */
export function product(shape: readonly number[], dtype: DType, a: Storage, b: Storage, M: number, K: number, N: number, transA: boolean, transB: boolean): Tensor {
  const d = device(), out = d.alloc(dtype, M * N);
  d.matmul(out, a, b, 1, M, K, N, 0, 0, transA, transB, false);
  return new Tensor(out, shape);
}

/** (batch, M, K) @ (batch, K, N) on contiguous operands, with its backward. */
function gemm(a: Tensor, b: Tensor, batch: number, M: number, K: number, N: number): Tensor {
  const bStride = b.ndim === 2 ? 0 : K * N;
  const k = device(), out = k.alloc(a.dtype, batch * M * N);
  k.matmul(out, a.storage, b.storage, batch, M, K, N, M * K, bStride, false, false, false);
  const y = new Tensor(out, [batch, M, N]);
  return record(y, "matmul", [a, b], (g) => {
    const gv = g.storage;
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = dY . B^T
      const d = k.alloc(a.dtype, a.size);
      k.matmul(d, gv, b.storage, batch, M, N, K, M * N, bStride, false, true, false);
      da = new Tensor(d, a.shape);
    }
    if (b.requiresGrad) {
      // dB = A^T . dY, summed over the batch when B is shared
      const d = k.alloc(b.dtype, b.size);
      if (bStride === 0) k.matmul(d, a.storage, gv, 1, K, batch * M, N, 0, 0, true, false, false);
      else k.matmul(d, a.storage, gv, batch, K, M, N, M * K, M * N, true, false, false);
      db = new Tensor(d, b.shape);
    }
    return [da, db];
  });
}
