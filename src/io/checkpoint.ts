// A training checkpoint as four files, so a browser can keep one in memory (or IndexedDB) and Node
// can write it to a directory (src/node/checkpoint.ts):
//   config.json            model configuration (JSON object)
//   model.safetensors      parameters by attribute path (Module.stateDict())
//   optimizer.safetensors  optimizer buffers (Optimizer.stateDict())
//   state.json             step, RNG state, data position, schedule, tokenizer, optimizer hyper-parameters
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerState } from "../optim/optimizer.js";
import type { Tensor } from "../tensor/tensor.js";
import { parseSafetensors, serializeSafetensors, SafetensorsError } from "./safetensors.js";

export interface Checkpoint {
  config: Record<string, unknown>;
  model: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
  /** JSON-able training state; `step` (a non-negative integer) names the checkpoint directory. */
  state: Record<string, unknown>;
}

export const CHECKPOINT_FILES = {
  config: "config.json",
  model: "model.safetensors",
  optimizer: "optimizer.safetensors",
  state: "state.json",
} as const;

/** Any problem building or reading a checkpoint (a bad file inside keeps its SafetensorsError as `cause`). */
export class CheckpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CheckpointError";
  }
}

/** The step a checkpoint's state names; throws unless it is a non-negative safe integer. */
export function checkpointStep(ckpt: Checkpoint, fn = "checkpointStep"): number {
  const step = ckpt.state?.step;
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`${fn}: state.step must be a non-negative integer, got ${JSON.stringify(step) ?? String(step)}`);
  }
  return step;
}

/**
 * A checkpoint of a model and its optimizer: parameters by attribute path, optimizer buffers, and
 * `state` plus `state.optimizer` (the optimizer's JSON state). Tensors share storage with the live
 * ones, so serialize (saveCheckpoint / checkpointToFiles) before the next step.
 */
export function captureCheckpoint(parts: { model: Module; optimizer?: Optimizer; config: Record<string, unknown>; state: Record<string, unknown> }): Checkpoint {
  const { model, optimizer, config, state } = parts;
  return {
    config,
    model: model.stateDict(),
    optimizer: optimizer?.stateDict() ?? new Map(),
    state: optimizer === undefined ? { ...state } : { ...state, optimizer: optimizer.getState() },
  };
}

/** Loads a checkpoint's parameters into `model` and, when given, its buffers and state into `optimizer`. */
export function restoreCheckpoint(ckpt: Checkpoint, targets: { model: Module; optimizer?: Optimizer }): void {
  targets.model.loadStateDict(ckpt.model);
  if (targets.optimizer === undefined) return;
  const saved = ckpt.state.optimizer;
  if (typeof saved !== "object" || saved === null) {
    throw new CheckpointError("restoreCheckpoint: the checkpoint has no state.optimizer (it was captured without an optimizer)");
  }
  targets.optimizer.loadStateDict(ckpt.optimizer);
  targets.optimizer.setState(saved as OptimizerState);
}

/** Serializes a checkpoint to its four files (name -> bytes). Synchronous: the bytes are a snapshot. */
export function checkpointToFiles(ckpt: Checkpoint): Map<string, Uint8Array> {
  const fn = "checkpointToFiles";
  if (typeof ckpt !== "object" || ckpt === null) throw new CheckpointError(`${fn}: expected a Checkpoint object, got ${String(ckpt)}`);
  for (const key of ["model", "optimizer"] as const) {
    if (!(ckpt[key] instanceof Map)) throw new CheckpointError(`${fn}: ${key} must be a Map<string, Tensor>`);
  }
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set(CHECKPOINT_FILES.config, enc.encode(jsonText(ckpt.config, "config", fn)));
  try {
    files.set(CHECKPOINT_FILES.model, serializeSafetensors(ckpt.model));
    files.set(CHECKPOINT_FILES.optimizer, serializeSafetensors(ckpt.optimizer));
  } catch (e) {
    throw new CheckpointError(`${fn}: ${(e as Error).message}`, { cause: e });
  }
  files.set(CHECKPOINT_FILES.state, enc.encode(jsonText(ckpt.state, "state", fn)));
  return files;
}

/** Reads a checkpoint back from its four files; `source` names where they came from in errors. */
export function checkpointFromFiles(files: Map<string, Uint8Array> | Record<string, Uint8Array>, source = "checkpoint"): Checkpoint {
  const fn = "checkpointFromFiles";
  const get = (name: string): Uint8Array => {
    const bytes = files instanceof Map ? files.get(name) : Object.hasOwn(files, name) ? files[name] : undefined;
    if (!(bytes instanceof Uint8Array)) throw new CheckpointError(`${fn}: ${source} has no ${name}`);
    return bytes;
  };
  const tensors = (name: string): Map<string, Tensor> => {
    try {
      return parseSafetensors(get(name)).tensors;
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError(`${fn}: ${name} in ${source}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  return {
    config: parseObject(get(CHECKPOINT_FILES.config), `${CHECKPOINT_FILES.config} in ${source}`, fn),
    model: tensors(CHECKPOINT_FILES.model),
    optimizer: tensors(CHECKPOINT_FILES.optimizer),
    state: parseObject(get(CHECKPOINT_FILES.state), `${CHECKPOINT_FILES.state} in ${source}`, fn),
  };
}

function parseObject(bytes: Uint8Array, what: string, fn: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CheckpointError(`${fn}: ${what} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointError(`${fn}: ${what} must hold a JSON object, got ${Array.isArray(value) ? "an array" : String(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Pretty JSON of a plain-data object; refuses what JSON would silently lose (NaN, Maps, typed arrays). */
function jsonText(value: unknown, what: string, fn: string): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointError(`${fn}: ${what} must be a plain object, got ${Array.isArray(value) ? "an array" : String(value)}`);
  }
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > 64) throw new CheckpointError(`${fn}: ${path} is nested deeper than 64 levels (a cycle?)`);
    if (v === null || typeof v === "string" || typeof v === "boolean") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new CheckpointError(`${fn}: ${path} is ${v}, which JSON cannot hold`);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return;
    }
    if (typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      // undefined properties are dropped, as JSON.stringify does
      for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, `${path}.${k}`, depth + 1);
      return;
    }
    const kind = typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v;
    throw new CheckpointError(`${fn}: ${path} is a ${kind}; only plain JSON data (objects, arrays, strings, finite numbers, booleans, null) can be saved`);
  };
  walk(value, what, 0);
  return JSON.stringify(value, null, 2) + "\n";
}
