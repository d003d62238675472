// The WebGPU execution context: device-resident arrays, a pipeline cache, and one command encoder
// that batches every dispatch until a read needs the results (no readback between kernels).
/// <reference types="@webgpu/types" />
import type { Storage } from "../storage.js";

// numeric flags, so the code needs no GPUBufferUsage global (absent in Node unless installed)
const STORAGE = 0x80, UNIFORM = 0x40, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1;
const PARAM_BYTES = 256; // 64 words; see PARAMS_WGSL
const SPECIALS = 61; // words 61-63 hold NaN, +inf, -inf: WGSL constant expressions cannot be non-finite

export type GpuDType = "float32" | "int32" | "bool";
export type HostArray = Float32Array | Int32Array | Uint8Array;

/**
 * Released when a GpuArray is garbage-collected, unless destroyed explicitly first. Through the
 * context: a buffer that encoded-but-unsubmitted work still uses is destroyed after the submit.
 */
const finalizer = new FinalizationRegistry<{ ctx: GpuContext; buffer: GPUBuffer }>(({ ctx, buffer }) => ctx.release(buffer));

/**
 * A flat array on the device. Every element is one 32-bit word (f32, i32, or u32 0/1 for bool),
 * so kernels index all dtypes alike. It is a tensor Storage: the webgpu backend's tensors hold one.
 */
export class GpuArray implements Storage {
  private destroyed = false;
  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GPUBuffer,
    readonly dtype: GpuDType,
    readonly length: number,
  ) {
    finalizer.register(this, { ctx, buffer }, this);
  }

  /** Frees the device memory now (tight loops); using the array afterwards is an error. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    finalizer.unregister(this);
    this.ctx.release(this.buffer);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Submits pending work and copies the values back to the host. */
  read(): Promise<HostArray> {
    return this.ctx.download(this);
  }

  /** WebGPU cannot read a buffer synchronously (mapAsync only): refuses and names the async call. */
  readSync(): never {
    throw new Error("this tensor lives on the GPU (webgpu backend) and WebGPU has no synchronous read: use `await t.data()` (or `await t.itemAsync()`), or switch to a host backend before making it");
  }

  /** Overwrites the values from host numbers; ordered after every kernel encoded so far. */
  write(src: ArrayLike<number>): void {
    if (src.length !== this.length) throw new Error(`GpuArray.write: expected ${this.length} values, got ${src.length}`);
    this.ctx.flush(); // queue writes land before the next submit: earlier encoded reads must go first
    const words = this.dtype === "float32" ? Float32Array.from(src) : this.dtype === "int32" ? Int32Array.from(src) : Uint32Array.from(src, (x) => (x !== 0 ? 1 : 0));
    this.ctx.device.queue.writeBuffer(this.buffer, 0, words.buffer, 0, words.byteLength);
  }
}

/** Builds the 64-word uniform block every kernel reads its sizes from. */
export class Params {
  readonly words = new ArrayBuffer(PARAM_BYTES);
  private readonly view = new DataView(this.words);
  private n = 0;
  constructor() {
    this.view.setUint32(4 * SPECIALS, 0x7fc00000, true);
    this.view.setUint32(4 * SPECIALS + 4, 0x7f800000, true);
    this.view.setUint32(4 * SPECIALS + 8, 0xff800000, true);
  }
  u(x: number): this { this.view.setUint32(this.next(), x >>> 0, true); return this; }
  i(x: number): this { this.view.setInt32(this.next(), x | 0, true); return this; }
  f(x: number): this { this.view.setFloat32(this.next(), x, true); return this; }
  private next(): number {
    if (this.n >= SPECIALS) throw new Error(`webgpu: more than ${SPECIALS} kernel parameters`);
    return 4 * this.n++;
  }
}

/** WGSL for the uniform block: pu/pi/pf read word i as u32/i32/f32. Binding 0 in every kernel. */
export const PARAMS_WGSL = /* wgsl */ `
struct Params { v: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> P: Params;
fn pu(i: u32) -> u32 { return P.v[i / 4u][i % 4u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
fn nan_() -> f32 { return pf(61u); }
fn inf_() -> f32 { return pf(62u); }
fn neginf_() -> f32 { return pf(63u); }
`;

export const WG = 64; // threads per workgroup for 1-D kernels

/** A kernel's entry point with `i`, the flat thread index over a grid() of WG-wide workgroups (the body follows). */
export const INDEX_WGSL = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + li;`;
const MAX_GROUPS = 65535;

/** A 2-D grid covering `groups` workgroups (WebGPU caps each dimension at 65535). */
export function grid(groups: number): [number, number, number] {
  if (groups <= MAX_GROUPS) return [Math.max(groups, 1), 1, 1];
  return [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS), 1];
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private temps: GPUBuffer[] = [];
  private errors: Promise<GPUError | null>[] = [];
  private scopes: Set<GpuArray>[] = [];
  /** Dispatches encoded since creation, for tests and stats. */
  dispatches = 0;
  submits = 0;

  constructor(readonly device: GPUDevice) {}

  alloc(dtype: GpuDType, length: number): GpuArray {
    this.checkSize(length);
    const buffer = this.device.createBuffer({ size: Math.max(4, length * 4), usage: STORAGE | COPY_SRC | COPY_DST });
    const arr = new GpuArray(this, buffer, dtype, length);
    this.scopes.at(-1)?.add(arr);
    return arr;
  }

  /**
   * Runs fn and destroys every array it allocated except those it returns (one, or an array of
   * them): for tight loops that should not wait for the garbage collector to free device memory.
   */
  scope<T extends GpuArray | readonly GpuArray[] | void>(fn: () => T): T {
    return this.scopeWith(fn, (r) => (r instanceof GpuArray ? [r] : Array.isArray(r) ? r : []));
  }

  /** scope() for any result: `survivors` names the arrays inside the result that must live on. */
  scopeWith<T>(fn: () => T, survivors: (result: T) => Iterable<GpuArray>): T {
    const made = new Set<GpuArray>();
    this.scopes.push(made);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    const keep = new Set<GpuArray>(survivors(result));
    for (const a of made) {
      if (keep.has(a)) this.scopes.at(-1)?.add(a); // an outer scope owns it now
      else a.destroy();
    }
    return result;
  }

  /** A zero-filled array (new buffers are zeroed by WebGPU). */
  zeros(dtype: GpuDType, length: number): GpuArray {
    return this.alloc(dtype, length);
  }

  upload(data: HostArray, dtype: GpuDType = dtypeOf(data)): GpuArray {
    const arr = this.alloc(dtype, data.length);
    const words = data instanceof Uint8Array ? Uint32Array.from(data) : data;
    // a fresh buffer: no encoded-but-unsubmitted dispatch can refer to it, so no flush is needed
    this.device.queue.writeBuffer(arr.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return arr;
  }

  /** Host values in an array that lives until the current batch is submitted (a kernel input). */
  uploadTemp(data: HostArray, dtype: GpuDType = dtypeOf(data)): GpuArray {
    const arr = this.tempArray(dtype, data.length);
    const words = data instanceof Uint8Array ? Uint32Array.from(data) : data;
    this.device.queue.writeBuffer(arr.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return arr;
  }

  /** Removes arrays from every open scope, so they outlive it (optimizer state made mid-scope). */
  keep(arrays: Iterable<GpuArray>): void {
    for (const a of arrays) for (const s of this.scopes) s.delete(a);
  }

  /** Refuses arrays larger than one storage binding may be, naming the limit (instead of a validation error later). */
  checkSize(length: number): void {
    const max = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (length * 4 > max) throw new Error(`webgpu: an array of ${length} values (${length * 4} bytes) exceeds this device's largest storage buffer, ${max} bytes (maxStorageBufferBindingSize / maxBufferSize)`);
  }

  /** A GPUBuffer that lives until the current batch is submitted (scratch and uniforms). */
  temp(bytes: number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
    const buf = this.device.createBuffer({ size: Math.max(4, bytes), usage });
    this.temps.push(buf);
    return buf;
  }

  /** A GpuArray destroyed when the current batch is submitted. */
  tempArray(dtype: GpuDType, length: number): GpuArray {
    this.checkSize(length);
    const buf = this.temp(length * 4);
    return new GpuArray(this, buf, dtype, length);
  }

  release(buffer: GPUBuffer): void {
    // destroying mid-batch would invalidate the encoded commands that use it
    if (this.encoder) this.temps.push(buffer);
    else buffer.destroy();
  }

  private pipeline(code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /** Encodes one dispatch of `code` with the uniform block at binding 0 and `buffers` at 1, 2, ... */
  run(code: string, params: Params, buffers: readonly GpuArray[], groups: readonly [number, number, number]): void {
    if (groups[0] * groups[1] * groups[2] === 0) return;
    for (const b of buffers) if (b.isDestroyed) throw new Error("webgpu: a kernel was given a destroyed GpuArray");
    if (!this.encoder) {
      this.device.pushErrorScope("validation");
      this.encoder = this.device.createCommandEncoder();
    }
    const pipeline = this.pipeline(code);
    const ubuf = this.temp(PARAM_BYTES, UNIFORM | COPY_DST);
    this.device.queue.writeBuffer(ubuf, 0, params.words);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: ubuf } }];
    buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer } }));
    const bind = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    pass.end();
    this.dispatches++;
  }

  /** Encodes a buffer-to-buffer copy into the current batch. */
  copy(dst: GpuArray, src: GpuArray, length = src.length): void {
    if (!this.encoder) {
      this.device.pushErrorScope("validation");
      this.encoder = this.device.createCommandEncoder();
    }
    this.encoder.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, length * 4);
  }

  /** Submits the batch encoded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.device.queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.errors.push(this.device.popErrorScope());
    for (const t of this.temps) t.destroy(); // freed once the submitted work completes
    this.temps = [];
  }

  /** Waits for all submitted work; throws the first validation error any batch produced. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    const errs = await Promise.all(this.errors);
    this.errors = [];
    const e = errs.find((x) => x !== null);
    if (e) throw new Error(`webgpu: ${e.message}`);
  }

  async download(arr: GpuArray): Promise<HostArray> {
    const bytes = Math.max(4, arr.length * 4);
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.copy(asArray(this, staging, arr.length), arr, arr.length);
    await this.sync();
    await staging.mapAsync(1 /* GPUMapMode.READ */);
    const words = staging.getMappedRange().slice(0, arr.length * 4);
    staging.unmap();
    staging.destroy();
    switch (arr.dtype) {
      case "float32": return new Float32Array(words);
      case "int32": return new Int32Array(words);
      case "bool": return Uint8Array.from(new Uint32Array(words), (x) => (x !== 0 ? 1 : 0));
      default: return arr.dtype satisfies never;
    }
  }
}

function asArray(ctx: GpuContext, buffer: GPUBuffer, length: number): GpuArray {
  const a = new GpuArray(ctx, buffer, "float32", length);
  finalizer.unregister(a);
  return a;
}

export function dtypeOf(a: HostArray): GpuDType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  return "bool";
}

/** The WGSL element type of a dtype. */
export function wgslType(d: GpuDType): "f32" | "i32" | "u32" {
  return d === "float32" ? "f32" : d === "int32" ? "i32" : "u32";
}
