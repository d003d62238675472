// The current backend: 'wasm' (SIMD kernels, the default where the engine supports them) or 'js'
// (the reference loops). In Node, QKV_BACKEND=js|wasm picks the initial one.
import { check } from "../util/assert.js";
import { jsKernels } from "./js/index.js";
import type { Kernels } from "./kernels.js";
import { wasmKernels } from "./wasm/index.js";
import { wasmRuntime } from "./wasm/runtime.js";

export type BackendName = "js" | "wasm";

const backends: Record<BackendName, Kernels> = { js: jsKernels, wasm: wasmKernels };
let current: BackendName | null = null;
let warned = false;

/** Whether this engine runs the wasm kernels (WebAssembly with SIMD); compiles them on first call. */
export function wasmAvailable(): boolean {
  return wasmRuntime() !== null;
}

function resolve(name: BackendName): BackendName {
  if (name === "wasm" && !wasmAvailable()) {
    if (!warned) console.warn("qkv: this engine has no WebAssembly SIMD; using the js backend");
    warned = true;
    return "js";
  }
  return name;
}

export function setBackend(name: BackendName): void {
  check(name in backends, "setBackend", `expected one of ${Object.keys(backends).join(", ")}, got ${JSON.stringify(name)}`);
  current = resolve(name);
}

export function getBackend(): BackendName {
  if (current === null) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.QKV_BACKEND;
    if (env !== undefined && env !== "") setBackend(env as BackendName);
    else current = resolve("wasm");
  }
  return current as BackendName;
}

/** The kernels of the current backend. */
export function kernels(): Kernels {
  return backends[current ?? getBackend()];
}
