// The current backend. Issue #3 adds 'wasm'; until then 'js' is the only one.
import { check } from "../util/assert.js";
import { jsKernels } from "./js/index.js";
import type { Kernels } from "./kernels.js";

export type BackendName = "js";

const backends: Record<BackendName, Kernels> = { js: jsKernels };
let current: BackendName = "js";

export function setBackend(name: BackendName): void {
  check(name in backends, "setBackend", `expected one of ${Object.keys(backends).join(", ")}, got ${JSON.stringify(name)}`);
  current = name;
}

export function getBackend(): BackendName {
  return current;
}

/** The kernels of the current backend. */
export function kernels(): Kernels {
  return backends[current];
}
