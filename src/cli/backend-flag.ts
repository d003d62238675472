// --backend for the training and sampling commands.
import { setBackend, type BackendName } from "../backend/select.js";
import { UsageError } from "./args.js";

/** Selects the kernel backend named on the command line (a usage error if there is no such backend). */
export function useBackend(command: string, name: string | undefined): void {
  if (name === undefined) return;
  try {
    setBackend(name as BackendName);
  } catch (err) {
    throw new UsageError(`${command}: --backend: ${(err as Error).message}`);
  }
}
