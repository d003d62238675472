// The control block that a caller and its helper threads share (Node worker_threads or Web Workers):
// Int32 words 0 generation, 1 export index (-1 = exit), 2 arg count, 3 helpers still running,
// 4 error flag; then up to MAX_ARGS float64 kernel arguments.

export const CTRL_INTS = 16;
export const MAX_ARGS = 48;

export interface PoolControl {
  sab: SharedArrayBuffer;
  ctrl: Int32Array;
  args: Float64Array;
}

export function poolControl(): PoolControl {
  const sab = new SharedArrayBuffer(CTRL_INTS * 4 + MAX_ARGS * 8);
  return { sab, ctrl: new Int32Array(sab, 0, CTRL_INTS), args: new Float64Array(sab, CTRL_INTS * 4, MAX_ARGS) };
}

/** Publishes kernel `name` with arguments `a` to `helpers` helper threads and wakes them. */
export function startKernel(c: PoolControl, names: string[], helpers: number, caller: string, name: string, a: readonly number[]): void {
  if (a.length > MAX_ARGS) throw new Error(`${caller}: kernel ${name} has ${a.length} arguments, more than ${MAX_ARGS}`);
  c.args.set(a);
  c.ctrl[1] = names.indexOf(name);
  c.ctrl[2] = a.length;
  Atomics.store(c.ctrl, 3, helpers);
  Atomics.add(c.ctrl, 0, 1);
  Atomics.notify(c.ctrl, 0);
}

/** Throws if a helper thread reported a trap, clearing the flag. */
export function checkHelperError(c: PoolControl): void {
  if (c.ctrl[4] !== 0) {
    c.ctrl[4] = 0;
    throw new Error("qkv wasm worker: a kernel trapped in a helper thread");
  }
}
