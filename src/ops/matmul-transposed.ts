// x . w^T with w stored (N, K): a tied LM head (logits = h . E^T for the (V, C) embedding E)
// without materialising the transpose. Uses the kernel's transB flag, forward and backward.
import { record } from "../autograd/graph.js";
import { isFloat } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { product } from "./matmul.js";

/** x (..., K) and w (N, K) -> x . w^T (..., N); equal to matmul(x, transpose(w)). */
export function matmulTransposed(x: Tensor, w: Tensor): Tensor {
  check(x instanceof Tensor && w instanceof Tensor, "matmulTransposed", "expected two Tensors");
  check(x.ndim >= 1 && w.ndim === 2 && x.shape[x.ndim - 1] === w.shape[1], "matmulTransposed", () => `expected x (..., K) and w (N, K), got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}`);
  check(isFloat(x.dtype) && x.dtype === w.dtype, "matmulTransposed", `x and w must share one float dtype, got ${x.dtype} and ${w.dtype}`);
  const [N, K] = w.shape;
  const M = K === 0 ? 0 : x.size / K; // rows of x, flattened
  const y = product([...x.shape.slice(0, -1), N], x.dtype, x.storage, w.storage, M, K, N, false, true);
  return record(y, "matmulTransposed", [x, w], (g) => {
    const gv = g.storage;
    let dx: Tensor | null = null, dw: Tensor | null = null;
    // y = x w^T, so dx = dy . w: (M, N) @ (N, K); dw = dy^T . x: (N, M) @ (M, K), dy stored (M, N)
    if (x.requiresGrad) dx = product(x.shape, x.dtype, gv, w.storage, M, N, K, false, false);
    if (w.requiresGrad) dw = product(w.shape, w.dtype, gv, x.storage, N, M, K, true, false);
    return [dx, dw];
  });
}
