// The current backend and the Device that ops call. 'wasm' (SIMD kernels; the default where the
// engine supports them) and 'js' (the reference loops) keep numbers in host typed arrays; 'webgpu'
// keeps them in GPU buffers and is chosen with `await setBackend('webgpu')`. In Node,
// QKV_BACKEND=js|wasm picks the initial one (webgpu needs the async call; see initBackend).
/// <reference types="@webgpu/types" />
import { check } from "../util/assert.js";
import { jsKernels } from "./js/index.js";
import type { Kernels } from "./kernels.js";
import { CpuStorage, type AnyArray, type DType, type Storage, allocArray } from "./storage.js";
import { wasmKernels } from "./wasm/index.js";
import { wasmRuntime } from "./wasm/runtime.js";
import { GpuArray, GpuContext, createWebGpuKernels, requestBrowserGpuDevice, type GpuDType, type WebGpuKernels } from "./webgpu/index.js";

export type BackendName = "js" | "wasm" | "webgpu";
const NAMES: readonly BackendName[] = ["js", "wasm", "webgpu"];

/** A kernel argument as ops pass it: Storage wherever the Kernels interface has an array. */
type OnStorage<T> = T extends readonly number[] ? T : T extends ArrayLike<number> ? Storage : T extends null ? null : T;
type StorageArgs<A extends unknown[]> = { [I in keyof A]: OnStorage<A[I]> };

/**
 * The kernels of one backend as ops call them: the Kernels interface with Storage in place of
 * every array, plus the backend's allocator. Ops never see typed arrays or GPU buffers.
 */
export type Device = { [K in keyof Kernels]: (...args: StorageArgs<Parameters<Kernels[K]>>) => void } & {
  readonly name: BackendName;
  /** A zero-filled array of n values on this backend. */
  alloc(dtype: DType, n: number): Storage;
  /** Host values placed on this backend: wrapped as they are on the CPU, uploaded to a GPU. */
  fromHost(array: AnyArray, dtype: DType): Storage;
};

const kernelNames = Object.keys(jsKernels) as (keyof Kernels)[];

/** Builds a Device whose kernels unwrap every Storage argument with `unwrap` (`first`: the call's first, written, array). */
function makeDevice(name: BackendName, impl: Record<keyof Kernels, (...a: unknown[]) => void>, unwrap: (s: Storage, first: boolean) => unknown, alloc: Device["alloc"], fromHost: Device["fromHost"]): Device {
  const dev: Record<string, unknown> = { name, alloc, fromHost };
  for (const k of kernelNames) {
    const f = impl[k];
    dev[k] = (...args: unknown[]) => {
      let first = true;
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a instanceof CpuStorage || a instanceof GpuArray) {
          args[i] = unwrap(a, first);
          first = false;
        }
      }
      f(...args);
    };
  }
  return dev as Device;
}

/** Host backends: a CpuStorage's array as it is; a GPU storage refuses (readSync names the async call). */
function cpuDevice(name: "js" | "wasm", k: Kernels): Device {
  return makeDevice(name, k as unknown as Record<keyof Kernels, (...a: unknown[]) => void>, (s) => s.readSync(),
    (dtype, n) => new CpuStorage(dtype, allocArray(dtype, n)),
    (array, dtype) => new CpuStorage(dtype, array));
}

function gpuDType(fn: string, dtype: DType): GpuDType {
  check(dtype !== "float64", fn, "float64 is not available on the webgpu backend (WGSL has no f64); use float32, or the wasm backend for float64");
  return dtype as GpuDType;
}

/** The webgpu Device: storages are GpuArrays; host storages given as inputs are uploaded for the call. */
function gpuDevice(ctx: GpuContext, k: WebGpuKernels): Device {
  return makeDevice("webgpu", k as unknown as Record<keyof Kernels, (...a: unknown[]) => void>, (s, first) => {
    if (s instanceof GpuArray) {
      check(s.ctx === ctx, "webgpu", "this tensor belongs to another WebGPU device (setBackend('webgpu') was called again); recreate it");
      return s;
    }
    // the first array of every kernel is written (outputs first): writing an upload would be lost
    check(!first, "webgpu", "an op would write into a host tensor; create tensors after setBackend('webgpu'), or copy it with toBackend(t)");
    return ctx.uploadTemp(s.readSync() as Float32Array | Int32Array | Uint8Array, gpuDType("webgpu", s.dtype));
  }, (dtype, n) => ctx.alloc(gpuDType("webgpu", dtype), n), (array, dtype) => {
    const d = gpuDType("webgpu", dtype);
    return ctx.upload(array as Float32Array | Int32Array | Uint8Array, d);
  });
}

const cpu: Record<"js" | "wasm", Device> = { js: cpuDevice("js", jsKernels), wasm: cpuDevice("wasm", wasmKernels) };
let gpu: { ctx: GpuContext; device: Device; adapterName: string } | null = null;
let current: Device | null = null;
let warned = false;

/** Whether this engine runs the wasm kernels (WebAssembly with SIMD); compiles them on first call. */
export function wasmAvailable(): boolean {
  return wasmRuntime() !== null;
}

function resolveCpu(name: "js" | "wasm"): Device {
  if (name === "wasm" && !wasmAvailable()) {
    if (!warned) console.warn("qkv: this engine has no WebAssembly SIMD; using the js backend");
    warned = true;
    return cpu.js;
  }
  return cpu[name];
}

/** Where `setBackend('webgpu')` gets a device in engines without navigator.gpu (Node: qkv/node registers Dawn). */
export type GpuProvider = () => Promise<{ device: GPUDevice; adapterName?: string }>;
let provider: GpuProvider | null = null;

export function setGpuProvider(p: GpuProvider | null): void {
  provider = p;
}

export interface WebGpuOptions {
  /** Use this device instead of requesting one. */
  device?: GPUDevice;
  /** When no WebGPU adapter can be had, use this backend (with a warning) instead of throwing. */
  fallback?: "wasm" | "js";
}

async function acquireGpu(opts: WebGpuOptions): Promise<{ device: GPUDevice; adapterName: string }> {
  if (opts.device) return { device: opts.device, adapterName: "given device" };
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu === undefined && provider !== null) {
    const got = await provider();
    return { device: got.device, adapterName: got.adapterName ?? "unknown adapter" };
  }
  if (nav?.gpu === undefined && typeof (globalThis as { process?: unknown }).process === "object") {
    throw new Error("setBackend('webgpu'): Node has no navigator.gpu; import 'qkv/node' first (it registers the webgpu package, Dawn)");
  }
  const device = await requestBrowserGpuDevice();
  return { device, adapterName: "navigator.gpu adapter" };
}

/**
 * Chooses the backend every later op runs on. 'js' and 'wasm' switch at once; 'webgpu' is async
 * (it requests an adapter and a device) and resolves to the backend actually chosen, which is the
 * fallback when one is given and no adapter exists. Tensors made before a switch stay where they
 * are: host tensors are uploaded when a webgpu op reads them, GPU tensors must be read with
 * `await t.data()`.
 */
export function setBackend(name: "js" | "wasm"): void;
export function setBackend(name: "webgpu", opts?: WebGpuOptions): Promise<BackendName>;
export function setBackend(name: BackendName, opts?: WebGpuOptions): void | Promise<BackendName>;
export function setBackend(name: BackendName, opts: WebGpuOptions = {}): void | Promise<BackendName> {
  check(NAMES.includes(name), "setBackend", `expected one of ${NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  if (name !== "webgpu") {
    current = resolveCpu(name);
    return;
  }
  return (async () => {
    let got: { device: GPUDevice; adapterName: string };
    try {
      got = await acquireGpu(opts);
    } catch (e) {
      if (opts.fallback === undefined) throw e;
      console.warn(`qkv: no WebGPU (${(e as Error).message}); using the ${opts.fallback} backend`);
      current = resolveCpu(opts.fallback);
      return current.name;
    }
    if (gpu === null || gpu.ctx.device !== got.device) {
      const ctx = new GpuContext(got.device);
      gpu = { ctx, device: gpuDevice(ctx, createWebGpuKernels(ctx)), adapterName: got.adapterName };
    }
    current = gpu.device;
    return "webgpu" as BackendName;
  })();
}

/** The backend QKV_BACKEND names (js, wasm or webgpu), set up; for CLIs and test runners. */
export async function initBackend(opts: WebGpuOptions = {}): Promise<BackendName> {
  const env = envBackend();
  if (env === "webgpu") return setBackend("webgpu", opts);
  return getBackend();
}

function envBackend(): BackendName | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.QKV_BACKEND;
  return env === undefined || env === "" ? undefined : (env as BackendName);
}

export function getBackend(): BackendName {
  if (current === null) {
    const env = envBackend();
    check(env !== "webgpu", "getBackend", "QKV_BACKEND=webgpu needs `await setBackend('webgpu')` or `await initBackend()` before the first op");
    if (env !== undefined) setBackend(env as "js" | "wasm");
    else current = resolveCpu("wasm");
  }
  return (current as Device).name;
}

/** The current backend's device, as ops call it. */
export function device(): Device {
  if (current === null) getBackend();
  return current as Device;
}

/** The WebGPU context when the webgpu backend has been set up (for scopes, stats and reads), else null. */
export function gpuContext(): GpuContext | null {
  return gpu?.ctx ?? null;
}

/** The adapter the webgpu backend runs on, for logs and bench reports. */
export function gpuAdapterName(): string | null {
  return gpu?.adapterName ?? null;
}
