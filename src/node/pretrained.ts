// Hugging Face GPT-2 directories on disk: config.json + model.safetensors in, the same out
// (every file written atomically). The mapping itself is src/io/gpt2.ts.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fromPretrained, Gpt2FormatError, gpt2ConfigToHf, gpt2StateFromModel, type Gpt2TensorSource } from "../io/gpt2.js";
import { decodeSafetensorsEntry, MAX_HEADER_BYTES, readSafetensorsHeader, SafetensorsError, serializeSafetensors, type SafetensorsEntry } from "../io/safetensors.js";
import { GPT, gptConfig, type GPTConfig } from "../nn/gpt.js";
import { withoutInit } from "../nn/init.js";
import { Rng } from "../util/random.js";
import { loadCheckpoint } from "./checkpoint.js";
import { writeFileAtomic } from "./atomic-write.js";

export const HF_CONFIG_FILE = "config.json";
export const HF_WEIGHTS_FILE = "model.safetensors";

async function readOrFail(path: string, fn: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new Gpt2FormatError(`${fn}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Loads a Hugging Face GPT-2 directory (config.json + model.safetensors) as a qkv GPT in eval mode.
 * The weights file is read one tensor at a time, so memory peaks near the model's own size.
 */
export async function loadPretrained(dir: string): Promise<GPT> {
  const configName = join(dir, HF_CONFIG_FILE), weightsName = join(dir, HF_WEIGHTS_FILE);
  const config = await readOrFail(configName, "loadPretrained");
  let fd: number;
  try {
    fd = openSync(weightsName, "r");
  } catch (e) {
    throw new Gpt2FormatError(`loadPretrained: cannot read ${weightsName}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return fromPretrained({ config, weights: safetensorsFileSource(fd, weightsName), configName, weightsName });
  } finally {
    closeSync(fd);
  }
}

/** Reads exactly `length` bytes at `position`. */
function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) break; // truncated: the header checks report it
    done += n;
  }
  return out;
}

/** A safetensors file as a tensor source: the header is validated up front, each tensor read when asked for. */
function safetensorsFileSource(fd: number, file: string): Gpt2TensorSource {
  const size = fstatSync(fd).size;
  const head = readAt(fd, 0, Math.min(8, size));
  const len = head.length === 8 ? new DataView(head.buffer).getUint32(0, true) + 2 ** 32 * new DataView(head.buffer).getUint32(4, true) : 0;
  const headerBytes = len > 0 && len <= MAX_HEADER_BYTES && len <= size - 8 ? readAt(fd, 0, 8 + len) : head;
  let header;
  try {
    header = readSafetensorsHeader(headerBytes, { fileLength: size });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new Gpt2FormatError(`loadPretrained: ${file} is not a valid safetensors file: ${e.message}`, { cause: e });
    throw e;
  }
  const { entries, dataStart } = header;
  return {
    names: [...entries.keys()],
    read: (name) => {
      const e = entries.get(name) as SafetensorsEntry;
      try {
        return decodeSafetensorsEntry(name, e, readAt(fd, dataStart + e.dataOffsets[0], e.dataOffsets[1] - e.dataOffsets[0]));
      } catch (err) {
        throw new Gpt2FormatError(`loadPretrained: ${file}: ${(err as Error).message}`, { cause: err });
      }
    },
    dtype: (name) => entries.get(name)?.dtype ?? "?",
  };
}

/** True when `dir` looks like a Hugging Face GPT-2 directory (a config.json with GPT-2 fields and model.safetensors). */
export async function isHfGpt2Dir(dir: string): Promise<boolean> {
  try {
    const cfg = JSON.parse(await readFile(join(dir, HF_CONFIG_FILE), "utf8")) as Record<string, unknown>;
    if (!(await stat(join(dir, HF_WEIGHTS_FILE))).isFile()) return false;
    return cfg !== null && typeof cfg === "object" && (cfg.model_type === "gpt2" || typeof cfg.n_embd === "number");
  } catch {
    return false;
  }
}

/**
 * Writes `model` as a Hugging Face GPT-2 directory that transformers' GPT2LMHeadModel.from_pretrained
 * loads: config.json and model.safetensors (published names, F32, metadata format "pt").
 * `extraConfig` adds fields to config.json (qkv keeps its tokenizer there).
 */
export async function saveHfGpt2(dir: string, model: GPT, opts: { extraConfig?: Record<string, unknown> } = {}): Promise<void> {
  const config = gpt2ConfigToHf(model.config, opts.extraConfig);
  const weights = serializeSafetensors(gpt2StateFromModel(model), { format: "pt" });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, HF_WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, HF_CONFIG_FILE), JSON.stringify(config, null, 2) + "\n");
}

/** config.json field that carries qkv's tokenizer description through a Hugging Face directory. */
export const HF_TOKENIZER_FIELD = "qkv_tokenizer";

export interface LoadedGpt {
  model: GPT;
  /** The tokenizer description (as a checkpoint's state.tokenizer); GPT-2's BPE for a 50257-token Hugging Face model; null if unknown. */
  tokenizer: unknown;
  /** "huggingface" for a GPT-2 directory, else "qkv" (a checkpoint). */
  format: "huggingface" | "qkv";
  /** The directory the weights came from (for a qkv run folder, the step directory). */
  dir: string;
}

/** A GPT from a qkv checkpoint (run or step folder) or a Hugging Face GPT-2 directory, in eval mode. */
export async function loadGpt(path: string): Promise<LoadedGpt> {
  if (await isHfGpt2Dir(path)) {
    const model = await loadPretrained(path);
    const cfg = JSON.parse(await readFile(join(path, HF_CONFIG_FILE), "utf8")) as Record<string, unknown>;
    const tokenizer = cfg[HF_TOKENIZER_FIELD] ?? (model.config.vocabSize === 50257 ? { kind: "gpt2" } : null);
    return { model, tokenizer, format: "huggingface", dir: path };
  }
  const ckpt = await loadCheckpoint(path);
  const model = withoutInit(() => new GPT(gptConfig(ckpt.config as Partial<GPTConfig>), { rng: new Rng(0) }));
  model.loadStateDict(ckpt.model); // sets every parameter
  return { model: model.eval(), tokenizer: ckpt.state.tokenizer ?? null, format: "qkv", dir: ckpt.dir };
}
