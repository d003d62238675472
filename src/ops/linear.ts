// linear(x, W, b) = x . W + b with W stored (K, N), as nn.Linear: the bias seeds the output rows and
// the matmul kernel accumulates onto it, so no separate broadcast add runs forward.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { isFloat } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { add } from "./elementwise.js";
import { matmul, product } from "./matmul.js";

/** x (..., K), weight (K, N), bias (N) or null -> (..., N); equal to add(matmul(x, weight), bias). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const fn = "linear";
  check(x instanceof Tensor && weight instanceof Tensor && (bias === null || bias instanceof Tensor), fn, "expected x and weight Tensors and a bias Tensor or null");
  if (bias === null) return matmul(x, weight);
  // mixed dtypes (float64 gradient checks against float32 modules) promote through the composite
  if (!(isFloat(x.dtype) && x.dtype === weight.dtype && x.dtype === bias.dtype)) return add(matmul(x, weight), bias);
  check(x.ndim >= 1 && weight.ndim === 2 && x.shape[x.ndim - 1] === weight.shape[0] && bias.ndim === 1 && bias.shape[0] === weight.shape[1], fn, () => `expected x (..., K), weight (K, N) and bias (N,), got ${fmtShape(x.shape)}, ${fmtShape(weight.shape)} and ${fmtShape(bias.shape)}`);
  const [K, N] = weight.shape;
  const M = K === 0 ? 0 : x.size / K; // rows of x, flattened
  const k = device(), out = k.alloc(x.dtype, M * N);
  k.copyStrided(out, 0, [N, 1], bias.storage, 0, [0, 1], [M, N], false); // every row starts as the bias
  k.matmul(out, x.storage, weight.storage, 1, M, K, N, 0, 0, false, false, true);
  const y = new Tensor(out, [...x.shape.slice(0, -1), N]);
  return record(y, fn, [x, weight, bias], (g) => {
    const gv = g.storage;
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    // dx = dy . W^T: (M, N) @ (N, K), W stored (K, N); dW = x^T . dy: (K, M) @ (M, N), x stored (M, K)
    if (x.requiresGrad) dx = product(x.shape, x.dtype, gv, weight.storage, M, N, K, false, true);
    if (weight.requiresGrad) dw = product(weight.shape, weight.dtype, x.storage, gv, K, M, N, true, false);
    if (bias.requiresGrad) {
      // db = sum of dy over the rows
      const d = k.alloc(bias.dtype, N);
      k.reduce("sum", d, gv, 1, M, N);
      db = new Tensor(d, bias.shape);
    }
    return [dx, dw, db];
  });
}
