// GPU memory without dispose(): tensors on the webgpu backend free their buffers when garbage-
// collected, and tidy() frees a block's temporaries at once (tight training loops). On host
// backends both are no-ops: the JS heap is the memory.
import { gpuContext } from "../backend/select.js";
import { GpuArray } from "../backend/webgpu/index.js";
import { Tensor } from "../tensor/tensor.js";

/** The GPU arrays held by tensors anywhere in `value` (tensors, arrays, Maps, plain objects). */
function gpuArraysIn(value: unknown, out: GpuArray[] = [], seen = new Set<unknown>()): GpuArray[] {
  if (value === null || typeof value !== "object" || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof Tensor) {
    if (value.storage instanceof GpuArray) out.push(value.storage);
    if (value.grad) gpuArraysIn(value.grad, out, seen);
  } else if (Array.isArray(value)) for (const v of value) gpuArraysIn(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) gpuArraysIn(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) gpuArraysIn(v, out, seen);
  return out;
}

/**
 * Runs fn and, on the webgpu backend, frees the GPU memory of every tensor created inside it
 * except the tensors it returns (also inside arrays, Maps and plain objects) and those passed to
 * keep(). Using a freed tensor later is an error that says so. Like tf.tidy.
 */
export function tidy<T>(fn: () => T): T {
  const ctx = gpuContext();
  if (ctx === null) return fn();
  return ctx.scopeWith(fn, (r) => gpuArraysIn(r));
}

/** Exempts tensors made inside a tidy() from being freed at its end (state that outlives a step). */
export function keep(...tensors: Tensor[]): void {
  gpuContext()?.keep(gpuArraysIn(tensors));
}
