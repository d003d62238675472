// Flag parsing for every command: node:util parseArgs (strict), typed numbers, usage errors -> exit 2.
import { parseArgs } from "node:util";

/** A bad command line: main prints the message and the command's usage, then exits with code 2. */
export class UsageError extends Error {}

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }>;

export interface Command {
  name: string;
  /** One line for `qkv --help`. */
  summary: string;
  /** The full `qkv <name> --help` text. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Parses argv against spec; unknown flags, missing values and stray arguments are usage errors. */
export function parseFlags(command: string, argv: string[], spec: FlagSpec, opts: { positionals?: number } = {}) {
  try {
    const res = parseArgs({ args: argv, options: { ...spec, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: (opts.positionals ?? 0) > 0 });
    if (res.positionals.length > (opts.positionals ?? 0)) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(res.positionals[opts.positionals ?? 0])}`);
    return res;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${command}: ${(err as Error).message}`);
  }
}

/** A numeric flag: an integer (or any finite number when `integer` is false) within [min, max]. */
export function numberFlag(command: string, name: string, raw: unknown, range: { min?: number; max?: number; integer?: boolean } = {}): number {
  const value = Number(raw);
  const { min = -Infinity, max = Infinity, integer = true } = range;
  const ok = typeof raw === "string" && raw.trim() !== "" && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) throw new UsageError(`${command}: --${name} expects ${integer ? "an integer" : "a number"}${min > -Infinity ? ` >= ${min}` : ""}${max < Infinity ? ` <= ${max}` : ""}, got ${JSON.stringify(raw)}`);
  return value;
}

/** A flag that must be one of `choices`. */
export function choiceFlag<T extends string>(command: string, name: string, raw: unknown, choices: readonly T[]): T {
  if (typeof raw !== "string" || !choices.includes(raw as T)) throw new UsageError(`${command}: --${name} expects one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw as T;
}
