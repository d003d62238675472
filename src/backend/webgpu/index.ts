// The WebGPU backend's kernels: the Kernels interface over device arrays instead of typed arrays.
// Each method only ENCODES its dispatches into the context's open command encoder and returns at
// once; nothing is read back. A chain of kernels becomes one submit, made when something is read
// (GpuArray.read / ctx.download) or ctx.sync() is awaited. So the methods are synchronous, not
// async: ops can stay synchronous and only the final read awaits (see README.md in this folder).
/// <reference types="@webgpu/types" />
import type { Kernels } from "../kernels.js";
import { adamUpdate, binary, cast, copyStrided, reduce, unary, unaryBackward, where } from "./elementwise.js";
import { attentionBackward, attentionForward } from "./attention.js";
import { type GpuArray, GpuContext } from "./context.js";
import { argmax, gatherBackward, gatherForward } from "./gather.js";
import { matmul } from "./matmul.js";
import { crossEntropyBackward, crossEntropyForward, embeddingBackward, embeddingForward, layerNormBackward, layerNormForward, logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward } from "./rows.js";

export { GpuArray, GpuContext, type GpuDType, type HostArray } from "./context.js";

/** Replaces every typed-array parameter type of a Kernels method by GpuArray (null stays allowed). */
type OnDevice<T> = T extends readonly number[] ? T : T extends ArrayLike<number> ? GpuArray : T extends null ? null : T;
type DeviceArgs<A extends unknown[]> = { [I in keyof A]: OnDevice<A[I]> };


/**
 * Kernels, name for name and argument for argument, with GpuArray for every array (bool arrays
 * hold one u32 per element, int32 ids stay int32). Compile-time mapped from Kernels, so a kernel
 * signature change there shows up here.
 */
export type WebGpuKernels = { [K in keyof Kernels]: (...args: DeviceArgs<Parameters<Kernels[K]>>) => void };

export function createWebGpuKernels(ctx: GpuContext): WebGpuKernels {
  return {
    unary: (...a) => unary(ctx, ...a),
    unaryBackward: (...a) => unaryBackward(ctx, ...a),
    binary: (...a) => binary(ctx, ...a),
    where: (...a) => where(ctx, ...a),
    copyStrided: (...a) => copyStrided(ctx, ...a),
    cast: (...a) => cast(ctx, ...a),
    reduce: (...a) => reduce(ctx, ...a),
    argmax: (...a) => argmax(ctx, ...a),
    gatherForward: (...a) => gatherForward(ctx, ...a),
    gatherBackward: (...a) => gatherBackward(ctx, ...a),
    matmul: (...a) => matmul(ctx, ...a),
    softmaxForward: (...a) => softmaxForward(ctx, ...a),
    softmaxBackward: (...a) => softmaxBackward(ctx, ...a),
    logSoftmaxForward: (...a) => logSoftmaxForward(ctx, ...a),
    logSoftmaxBackward: (...a) => logSoftmaxBackward(ctx, ...a),
    layerNormForward: (...a) => layerNormForward(ctx, ...a),
    layerNormBackward: (...a) => layerNormBackward(ctx, ...a),
    crossEntropyForward: (...a) => crossEntropyForward(ctx, ...a),
    crossEntropyBackward: (...a) => crossEntropyBackward(ctx, ...a),
    embeddingForward: (...a) => embeddingForward(ctx, ...a),
    embeddingBackward: (...a) => embeddingBackward(ctx, ...a),
    attentionForward: (...a) => attentionForward(ctx, ...a),
    attentionBackward: (...a) => attentionBackward(ctx, ...a),
    adamUpdate: (...a) => adamUpdate(ctx, ...a),
  };
}

/**
 * The adapter's own limits for buffer sizes instead of WebGPU's defaults (128 MiB per binding,
 * 256 MiB per buffer), so tensors such as GPT-2's 154 MB token embedding fit.
 */
export function largeBufferLimits(adapter: GPUAdapter): Record<string, number> {
  return { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize };
}

/** A context and its kernels for a device (from navigator.gpu in browsers, requestNodeGpuDevice in Node). */
export function webgpuBackend(device: GPUDevice): { ctx: GpuContext; kernels: WebGpuKernels } {
  const ctx = new GpuContext(device);
  return { ctx, kernels: createWebGpuKernels(ctx) };
}

/**
 * A GPUDevice from the browser's navigator.gpu, with errors that say what is missing (no WebGPU in
 * this browser or context, or no adapter). Node has no navigator.gpu: use requestNodeGpuDevice.
 */
export async function requestBrowserGpuDevice(opts: GPURequestAdapterOptions = {}): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    throw new Error(`requestBrowserGpuDevice: navigator.gpu is missing (WebGPU unsupported or disabled${secure === false ? "; this page is not a secure context (https or localhost)" : ""})`);
  }
  const adapter = await gpu.requestAdapter(opts);
  if (!adapter) throw new Error("requestBrowserGpuDevice: navigator.gpu.requestAdapter() returned null: no usable GPU adapter");
  return adapter.requestDevice({ requiredLimits: largeBufferLimits(adapter) });
}
