// Embedding lookup (gather rows by id) with a scatter-add backward.
import { record } from "../autograd/graph.js";
import { kernels } from "../backend/select.js";
import type { FloatArray } from "../backend/kernels.js";
import { allocArray, isFloat } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";

/** out[..., c] = weight[ids[...], c] for int32 ids (...) and weight (V, C). */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  check(ids instanceof Tensor && weight instanceof Tensor, "embedding", "expected ids and weight Tensors");
  check(ids.dtype === "int32", "embedding", `ids must be int32, got ${ids.dtype}`);
  check(weight.ndim === 2 && isFloat(weight.dtype), "embedding", () => `weight must be a float (V, C) matrix, got ${fmtShape(weight.shape)} ${weight.dtype}`);
  const [V, C] = weight.shape;
  const idv = ids.values as Int32Array;
  for (let i = 0; i < idv.length; i++) {
    check(idv[i] >= 0 && idv[i] < V, "embedding", () => `token id ${idv[i]} at index ${i} is out of range [0, ${V})`);
  }
  const N = idv.length;
  const out = allocArray(weight.dtype, N * C) as FloatArray;
  kernels().embeddingForward(out, weight.values as FloatArray, idv, N, C);
  return record(Tensor.fromArray(out, [...ids.shape, C], weight.dtype), "embedding", [weight], (g) => {
    const dw = allocArray(weight.dtype, weight.size) as FloatArray;
    kernels().embeddingBackward(dw, g.values as FloatArray, idv, N, C);
    return [Tensor.fromArray(dw, weight.shape, weight.dtype)];
  });
}
