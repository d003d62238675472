// Placing host values on the current backend: the one way tensors get onto a GPU.
import { device } from "../backend/select.js";
import type { AnyArray, DType } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";

/** Host values as a tensor on the current backend: wrapped (not copied) on the CPU, uploaded to a GPU. */
export function fromHost(array: AnyArray, shape: readonly number[], dtype: DType, requiresGrad = false): Tensor {
  return new Tensor(device().fromHost(array, dtype), shape, requiresGrad);
}

/** A host copy of a tensor from any backend (one asynchronous read on a GPU; a copy on the CPU). */
export async function toHost(t: Tensor): Promise<Tensor> {
  return Tensor.fromArray(await t.data(), t.shape, t.dtype);
}

/** The tensors of a state dict in host memory: host tensors as they are, GPU tensors read back. */
export async function hostTensors(state: Map<string, Tensor>): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of state) out.set(k, t.onHost ? t : await toHost(t));
  return out;
}
