// The wasm kernels module: compiled synchronously on first use from the generated base64, one
// linear memory (shared when the engine allows threads), a bump arena reset per kernel call, and
// an optional pool of helper threads (installed by qkv/node's useThreads) that run the same
// export on the same memory, claiming work units from a counter.
import * as binaries from "./kernels.generated.js";

export interface Runtime {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly relaxed: boolean;
  readonly exports: Record<string, (...args: number[]) => number>;
}

/** Helper threads running a kernel export alongside the caller (thread index 0). */
export interface Pool {
  /** Number of helper threads (the caller is one more). */
  readonly size: number;
  /** Wakes the helpers on export `name`; each calls it with args and its index 1..size. */
  start(name: string, args: readonly number[]): void;
  /** Blocks until every helper has finished the current call. */
  wait(): void;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
let rt: Runtime | null | undefined;
let pool: Pool | null = null;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function canShare(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer === "function" && g.crossOriginIsolated !== false;
}

let compiled: Map<string, WebAssembly.Module> | null = null;

/**
 * Compiles the kernels asynchronously (for a browser's main thread, where large synchronous compiles
 * are frowned upon); kernels then start without compiling. Resolves to whether wasm SIMD is available.
 */
export async function initWasm(): Promise<boolean> {
  if (rt !== undefined || typeof WebAssembly !== "object") return wasmRuntime() !== null;
  compiled = new Map();
  for (const b64 of canShare() ? [binaries.sharedRelaxed, binaries.sharedSimd] : [binaries.privateRelaxed, binaries.privateSimd]) {
    const bytes = decode(b64);
    if (WebAssembly.validate(bytes)) compiled.set(b64, await WebAssembly.compile(bytes));
  }
  return wasmRuntime() !== null;
}

/** The runtime, compiling it on first call; null when the engine lacks WebAssembly SIMD. */
export function wasmRuntime(): Runtime | null {
  if (rt !== undefined) return rt;
  rt = null;
  if (typeof WebAssembly !== "object") return rt;
  const shared = canShare();
  const candidates: [string, boolean][] = shared
    ? [[binaries.sharedRelaxed, true], [binaries.sharedSimd, false]]
    : [[binaries.privateRelaxed, true], [binaries.privateSimd, false]];
  for (const [b64, relaxed] of candidates) {
    const pre = compiled?.get(b64);
    const bytes = pre ? null : decode(b64);
    if (bytes && !WebAssembly.validate(bytes)) continue;
    try {
      const module = pre ?? new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
      const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      rt = { module, memory, shared, relaxed, exports: instance.exports as Runtime["exports"] };
      break;
    } catch {
      // an engine that validates but cannot instantiate (e.g. shared memory refused): try the next
    }
  }
  if (rt) arenaStart = align(rt.exports.heapBase() + 256);
  return rt;
}

export function setPool(p: Pool | null): void {
  pool = p;
}

/** Threads a kernel call may use: the caller plus the pool's helpers. */
export function threadCount(): number {
  return pool ? pool.size + 1 : 1;
}

// ---- arena: offsets are planned first (alloc), memory grown once (commit), views made after

let arenaStart = 0;
let top = 0;
const align = (n: number): number => (n + 63) & ~63;

/** Starts planning a kernel call's buffers. */
export function reset(): void {
  if (!wasmRuntime()) throw new Error("qkv wasm backend: WebAssembly SIMD is not available in this engine");
  top = arenaStart;
}

/** Reserves `bytes` (+64 bytes of slack that vector tails may read) and returns the offset. */
export function alloc(bytes: number): number {
  const p = top;
  top = align(top + bytes + 64);
  return p;
}

/** Grows memory to hold everything allocated; call before making views. */
export function commit(): void {
  const mem = (rt as Runtime).memory;
  const need = Math.ceil(top / PAGE) - mem.buffer.byteLength / PAGE;
  if (need > 0) {
    if (Math.ceil(top / PAGE) > MAX_PAGES) throw new Error(`qkv wasm backend: a kernel needs ${top} bytes, more than 4 GiB of linear memory`);
    mem.grow(need);
  }
}

export function f32(ptr: number, n: number): Float32Array {
  return new Float32Array((rt as Runtime).memory.buffer, ptr, n);
}
export function i32(ptr: number, n: number): Int32Array {
  return new Int32Array((rt as Runtime).memory.buffer, ptr, n);
}
export function u8(ptr: number, n: number): Uint8Array {
  return new Uint8Array((rt as Runtime).memory.buffer, ptr, n);
}

let calls = 0;
let parallelMin = 1 << 22;

/** How many kernel exports have run (tests use it to see that the wasm path was taken). */
export function wasmCallCount(): number {
  return calls;
}

/** The work below which a call stays on the calling thread; tests set 0 to force the pool. */
export function setParallelThreshold(work: number): void {
  parallelMin = work;
}

/** The work counter kernels claim units from; lives just below the arena. */
function counter(): number {
  return arenaStart - 64;
}

/**
 * Runs export `name` over `args` followed by the counter; in parallel when a pool is installed and
 * `work` (roughly, scalar operations) is worth the wake-up. Extra trailing args (scratch, stride)
 * come from `tail`; the thread index is always appended last.
 */
export function run(name: string, args: readonly number[], work: number, tail: readonly number[] = []): void {
  const r = rt as Runtime;
  calls++;
  new Int32Array(r.memory.buffer, counter(), 1)[0] = 0;
  const full = [...args, counter(), ...tail];
  const f = r.exports[name];
  if (pool && work >= parallelMin) {
    pool.start(name, full);
    try {
      f(...full, 0);
    } finally {
      pool.wait();
    }
  } else {
    f(...full, 0);
  }
}

/** A small module using relaxed SIMD, for feature detection. */
export function relaxedSimdBytes(): Uint8Array<ArrayBuffer> {
  return decode(binaries.privateRelaxed);
}
