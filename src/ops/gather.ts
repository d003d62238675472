// Gathering by index: embedding lookup (rows by id) and torch.gather along an axis, with scatter-add backwards.
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import { isFloat } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";

/** out[..., c] = weight[ids[...], c] for int32 ids (...) and weight (V, C). */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  check(ids instanceof Tensor && weight instanceof Tensor, "embedding", "expected ids and weight Tensors");
  check(ids.dtype === "int32", "embedding", `ids must be int32, got ${ids.dtype}`);
  check(weight.ndim === 2 && isFloat(weight.dtype), "embedding", () => `weight must be a float (V, C) matrix, got ${fmtShape(weight.shape)} ${weight.dtype}`);
  const [V, C] = weight.shape;
  if (ids.onHost) {
    // ids on the GPU cannot be read synchronously; there the kernel leaves an out-of-range id's row zero
    const idv = ids.values as Int32Array;
    for (let i = 0; i < idv.length; i++) {
      check(idv[i] >= 0 && idv[i] < V, "embedding", () => `token id ${idv[i]} at index ${i} is out of range [0, ${V})`);
    }
  }
  const N = ids.size;
  const d = device(), out = d.alloc(weight.dtype, N * C);
  d.embeddingForward(out, weight.storage, ids.storage, N, C);
  return record(new Tensor(out, [...ids.shape, C]), "embedding", [weight], (g) => {
    const dw = d.alloc(weight.dtype, weight.size);
    d.embeddingBackward(dw, g.storage, ids.storage, N, C);
    return [new Tensor(dw, weight.shape)];
  });
}

/** Offsets of an (outer, n, inner) view of `shape` around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[axis], inner];
}

/**
 * torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`. index is int32 and
 * matches x's shape on every other axis; the backward scatter-adds into x's shape.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  check(x instanceof Tensor && index instanceof Tensor, "gather", "expected x and index Tensors");
  check(index.dtype === "int32", "gather", `index must be int32, got ${index.dtype}`);
  const ax = axis < 0 ? axis + x.ndim : axis;
  check(Number.isInteger(ax) && ax >= 0 && ax < x.ndim, "gather", `axis ${axis} is out of range for rank ${x.ndim}`);
  check(index.ndim === x.ndim && index.shape.every((d, i) => i === ax || d === x.shape[i]), "gather", () => `index ${fmtShape(index.shape)} must match x ${fmtShape(x.shape)} except on axis ${ax}`);
  const [outer, n, inner] = around(x.shape, ax);
  const m = index.shape[ax];
  if (index.onHost) {
    // indices on the GPU cannot be read synchronously; there an out-of-range index reads 0
    const iv = index.values as Int32Array;
    for (let i = 0; i < iv.length; i++) check(iv[i] >= 0 && iv[i] < n, "gather", () => `index ${iv[i]} at position ${i} is out of range [0, ${n}) for axis ${ax} of ${fmtShape(x.shape)}`);
  }
  const d = device(), out = d.alloc(x.dtype, outer * m * inner);
  d.gatherForward(out, x.storage, index.storage, outer, n, m, inner);
  return record(new Tensor(out, index.shape), "gather", [x], (g) => {
    const dx = d.alloc(x.dtype, x.size);
    d.gatherBackward(dx, g.storage, index.storage, outer, n, m, inner);
    return [new Tensor(dx, x.shape)];
  });
}
