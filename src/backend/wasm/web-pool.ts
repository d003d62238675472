// Browser threads for the wasm kernels: Web Workers sharing the module's memory, available only
// when the page is cross-origin isolated (SharedArrayBuffer). Same protocol as qkv/node's
// useThreads, except that the main thread may not Atomics.wait: it spins until the helpers finish.
import { CTRL_INTS, MAX_ARGS, checkHelperError, poolControl, startKernel } from "./pool-control.js";
import { setPool, wasmRuntime, type Pool } from "./runtime.js";

// The worker body, as a string for a Blob URL (a bundler-free way to ship a worker).
const WORKER = `
onmessage = (e) => {
  const { module, memory, sab, index, names } = e.data;
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const ctrl = new Int32Array(sab, 0, ${CTRL_INTS}), args = new Float64Array(sab, ${CTRL_INTS * 4}, ${MAX_ARGS});
  let gen = Atomics.load(ctrl, 0);
  postMessage("ready");
  for (;;) {
    Atomics.wait(ctrl, 0, gen);
    gen = Atomics.load(ctrl, 0);
    const id = ctrl[1];
    if (id < 0) break;
    try { exports[names[id]](...Array.from(args.subarray(0, ctrl[2])), index); } catch { ctrl[4] = 1; }
    if (Atomics.sub(ctrl, 3, 1) === 1) Atomics.notify(ctrl, 3);
  }
  close();
};`;

let workers: Worker[] = [];

/**
 * Runs the wasm kernels on n threads in a browser (the page plus n - 1 Web Workers). Needs
 * cross-origin isolation; returns the thread count in use (1 when that is not possible).
 */
export async function useWebWorkers(n: number = globalThis.navigator?.hardwareConcurrency ?? 1): Promise<number> {
  stopWebWorkers();
  const rt = wasmRuntime();
  if (!rt || !rt.shared || n <= 1 || typeof Worker !== "function") return 1;
  const names = Object.keys(rt.exports).filter((k) => typeof rt.exports[k] === "function");
  const control = poolControl();
  const { sab, ctrl } = control;
  const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
  const started = Array.from({ length: n - 1 }, () => new Worker(url));
  await Promise.all(started.map((w, i) => new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => reject(new Error(`useWebWorkers: a worker failed to start: ${e.message}`));
    w.postMessage({ module: rt.module, memory: rt.memory, sab, index: i + 1, names });
  })));
  URL.revokeObjectURL(url);
  workers = started;
  const pool: Pool = {
    size: started.length,
    start: (name, a) => startKernel(control, names, started.length, "useWebWorkers", name, a),
    wait() {
      while (Atomics.load(ctrl, 3) !== 0); // the page's main thread may not block
      checkHelperError(control);
    },
  };
  stop = () => {
    ctrl[1] = -1;
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
  };
  setPool(pool);
  return n;
}

let stop: (() => void) | null = null;

/** Back to one thread. */
export function stopWebWorkers(): void {
  setPool(null);
  stop?.();
  stop = null;
  workers = [];
}
