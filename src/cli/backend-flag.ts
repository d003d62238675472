// --backend for the training and sampling commands.
import { getBackend, setBackend, type BackendName } from "../backend/select.js";
import { UsageError } from "./args.js";

const NAMES = ["js", "wasm", "webgpu"];

/**
 * Selects the kernel backend named on the command line: a usage error if there is no such
 * backend; webgpu requests its device (an error naming what is missing when there is no adapter).
 */
export async function useBackend(command: string, name: string | undefined): Promise<void> {
  if (name === undefined) return;
  if (!NAMES.includes(name)) throw new UsageError(`${command}: --backend: expected one of ${NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  await setBackend(name as BackendName);
}

/** Whether results must be read asynchronously (the webgpu backend keeps tensors on the GPU). */
export function onGpu(): boolean {
  return getBackend() === "webgpu";
}
