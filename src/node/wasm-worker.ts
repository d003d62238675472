// A helper thread of the wasm kernels (see threads.ts): instantiates the shared module on the
// shared memory, then loops: wait for a new generation, run the named export with its thread index.
import { parentPort, workerData } from "node:worker_threads";

const { module, memory, sab, index, names } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; sab: SharedArrayBuffer; index: number; names: string[] };
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
const ctrl = new Int32Array(sab, 0, 16), args = new Float64Array(sab, 64, 48); // the layout of backend/wasm/pool-control.ts
// read the generation before saying ready: the first job may bump it right after
let gen = Atomics.load(ctrl, 0);
parentPort?.postMessage("ready");
for (;;) {
  // kernels often come back to back: spin briefly before sleeping
  for (let spin = 0; spin < 4000 && Atomics.load(ctrl, 0) === gen; spin++);
  Atomics.wait(ctrl, 0, gen);
  gen = Atomics.load(ctrl, 0);
  const id = ctrl[1];
  if (id < 0) break;
  try {
    exports[names[id]](...Array.from(args.subarray(0, ctrl[2])), index);
  } catch {
    ctrl[4] = 1;
  }
  if (Atomics.sub(ctrl, 3, 1) === 1) Atomics.notify(ctrl, 3);
}
