// Node-only: a pool of worker_threads sharing the wasm kernels' memory, so synchronous kernel calls
// split their work across cores. The caller wakes helpers through Atomics on a shared control
// block, runs its own share, then waits (Atomics.wait is allowed on Node's main thread).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { checkHelperError, poolControl, startKernel } from "../backend/wasm/pool-control.js";
import { setPool, wasmRuntime, type Pool } from "../backend/wasm/runtime.js";

let workers: Worker[] = [];

/**
 * Runs the wasm kernels on `n` threads (the caller plus n - 1 workers); n defaults to the cores.
 * Returns the thread count in use: 1 when the engine cannot share wasm memory.
 */
export async function useThreads(n: number = availableParallelism()): Promise<number> {
  await stopThreads();
  const rt = wasmRuntime();
  if (!rt || !rt.shared || n <= 1) return 1;
  const names = Object.keys(rt.exports).filter((k) => typeof rt.exports[k] === "function");
  const control = poolControl();
  const { sab, ctrl } = control;
  const url = new URL("./wasm-worker.js", import.meta.url);
  const started = Array.from({ length: n - 1 }, (_, i) => new Worker(url, { workerData: { module: rt.module, memory: rt.memory, sab, index: i + 1, names } }));
  await Promise.all(started.map((w) => new Promise<void>((resolve, reject) => {
    w.once("message", () => resolve());
    w.once("error", reject);
  })));
  for (const w of started) w.unref();
  workers = started;
  const pool: Pool = {
    size: started.length,
    start: (name, a) => startKernel(control, names, started.length, "useThreads", name, a),
    wait() {
      for (let spin = 0; spin < 2000 && Atomics.load(ctrl, 3) !== 0; spin++);
      for (let left = Atomics.load(ctrl, 3); left !== 0; left = Atomics.load(ctrl, 3)) Atomics.wait(ctrl, 3, left);
      checkHelperError(control);
    },
  };
  const stop = (): void => {
    ctrl[1] = -1;
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
  };
  stopper = stop;
  setPool(pool);
  return n;
}

let stopper: (() => void) | null = null;

/** Back to one thread; the workers exit. */
export async function stopThreads(): Promise<void> {
  setPool(null);
  if (stopper) stopper();
  stopper = null;
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
}
