// Hugging Face GPT-2 <-> qkv GPT. One explicit name table maps the published tensor names (Conv1D
// weights stored [in, out], like qkv's Linear, so nothing is transposed) to qkv stateDict keys; the
// fused c_attn (C, 3C) splits along its last axis into W^Q, W^K, W^V. The LM head is tied to wte.
// Pure bytes and objects; the file side lives in src/node/pretrained.ts.
import { GPT, gptConfig, type GPTConfig } from "../nn/gpt.js";
import { withoutInit } from "../nn/init.js";
import { slice } from "../ops/movement.js";
import { assign } from "../ops/update.js";
import { Tensor } from "../tensor/tensor.js";
import { Rng } from "../util/random.js";
import { readSafetensorsHeader, readSafetensorsTensor, SafetensorsError, type SafetensorsHeader } from "./safetensors.js";

/** A Hugging Face name and the qkv keys it holds: one key, or three (Q, K, V) concatenated on the last axis. */
export interface Gpt2NameRule {
  hf: string;
  qkv: readonly string[];
}

/** The name table; `{i}` is the layer index. Published files carry no `transformer.` prefix. */
export const GPT2_NAME_TABLE: readonly Gpt2NameRule[] = Object.freeze([
  { hf: "wte.weight", qkv: ["tokenEmbedding.weight"] },
  { hf: "wpe.weight", qkv: ["positionEmbedding.weight"] },
  { hf: "h.{i}.ln_1.weight", qkv: ["blocks.{i}.ln1.weight"] },
  { hf: "h.{i}.ln_1.bias", qkv: ["blocks.{i}.ln1.bias"] },
  { hf: "h.{i}.attn.c_attn.weight", qkv: ["blocks.{i}.attn.wQ.weight", "blocks.{i}.attn.wK.weight", "blocks.{i}.attn.wV.weight"] },
  { hf: "h.{i}.attn.c_attn.bias", qkv: ["blocks.{i}.attn.wQ.bias", "blocks.{i}.attn.wK.bias", "blocks.{i}.attn.wV.bias"] },
  { hf: "h.{i}.attn.c_proj.weight", qkv: ["blocks.{i}.attn.wO.weight"] },
  { hf: "h.{i}.attn.c_proj.bias", qkv: ["blocks.{i}.attn.wO.bias"] },
  { hf: "h.{i}.ln_2.weight", qkv: ["blocks.{i}.ln2.weight"] },
  { hf: "h.{i}.ln_2.bias", qkv: ["blocks.{i}.ln2.bias"] },
  { hf: "h.{i}.mlp.c_fc.weight", qkv: ["blocks.{i}.mlp.fc.weight"] },
  { hf: "h.{i}.mlp.c_fc.bias", qkv: ["blocks.{i}.mlp.fc.bias"] },
  { hf: "h.{i}.mlp.c_proj.weight", qkv: ["blocks.{i}.mlp.proj.weight"] },
  { hf: "h.{i}.mlp.c_proj.bias", qkv: ["blocks.{i}.mlp.proj.bias"] },
  { hf: "ln_f.weight", qkv: ["lnFinal.weight"] },
  { hf: "ln_f.bias", qkv: ["lnFinal.bias"] },
].map((r) => Object.freeze(r)));

/** Buffers some GPT-2 files carry that hold no parameters (the causal mask): accepted and skipped. */
const IGNORED = [/^h\.\d+\.attn\.bias$/, /^h\.\d+\.attn\.masked_bias$/];
const PREFIX = "transformer.";
const ACTIVATIONS = ["gelu_new", "gelu_pytorch_tanh"]; // both are the tanh approximation qkv's gelu computes

/** The table expanded for `numLayers` layers, in file order. */
export function gpt2NameRules(numLayers: number): Gpt2NameRule[] {
  const out: Gpt2NameRule[] = [];
  const perLayer = GPT2_NAME_TABLE.filter((r) => r.hf.includes("{i}"));
  for (const r of GPT2_NAME_TABLE.slice(0, 2)) out.push(r);
  for (let i = 0; i < numLayers; i++) {
    for (const r of perLayer) out.push({ hf: r.hf.replace("{i}", String(i)), qkv: r.qkv.map((k) => k.replace("{i}", String(i))) });
  }
  for (const r of GPT2_NAME_TABLE.slice(2)) if (!r.hf.includes("{i}")) out.push(r);
  return out;
}

/** Any Hugging Face file qkv cannot read or honour; the message names the file and the tensor or field. */
export class Gpt2FormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "Gpt2FormatError";
  }
}

export interface PretrainedSource {
  /** config.json as text, bytes or a parsed object. */
  config: string | Uint8Array | Record<string, unknown>;
  /** model.safetensors bytes, tensors already parsed (Hugging Face names), or a reader of one tensor at a time. */
  weights: Uint8Array | Map<string, Tensor> | Gpt2TensorSource;
  /** Names used in errors (default "config.json" and "model.safetensors"; Node passes full paths). */
  configName?: string;
  weightsName?: string;
}

/** Hugging Face GPT-2 config.json -> a checked qkv GPTConfig; refuses what qkv's GPT cannot honour. */
export function gpt2ConfigFromHf(hf: Record<string, unknown>, file = "config.json"): GPTConfig {
  const fn = "gpt2ConfigFromHf";
  const bad = (m: string): never => {
    throw new Gpt2FormatError(`${fn}: ${file}: ${m}`);
  };
  if (typeof hf !== "object" || hf === null || Array.isArray(hf)) bad(`expected a JSON object, got ${Array.isArray(hf) ? "an array" : String(hf)}`);
  const field = (k: string) => JSON.stringify(hf[k]);
  if (hf.model_type !== undefined && hf.model_type !== "gpt2") bad(`model_type must be "gpt2", got ${field("model_type")}`);
  const int = (k: string): number => {
    const v = hf[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) bad(`${k} must be a positive integer, got ${field(k)}`);
    return v as number;
  };
  const C = int("n_embd"), H = int("n_head");
  if (C % H !== 0) bad(`n_embd ${C} must be divisible by n_head ${H}`);
  const act = hf.activation_function ?? "gelu_new";
  if (!ACTIVATIONS.includes(act as string)) bad(`activation_function ${JSON.stringify(act)} is not supported: qkv's GPT uses the tanh GELU (${ACTIVATIONS.join(" or ")})`);
  if (hf.n_inner !== undefined && hf.n_inner !== null && hf.n_inner !== 4 * C) bad(`n_inner ${field("n_inner")} is not supported: qkv's MLP is 4 * n_embd = ${4 * C} wide`);
  const eps = hf.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) bad(`layer_norm_epsilon must be a positive number, got ${field("layer_norm_epsilon")}`);
  const refuse = (k: string, ok: unknown, why: string) => {
    if (hf[k] !== undefined && hf[k] !== ok) bad(`${k}=${field(k)} is not supported: ${why}`);
  };
  refuse("tie_word_embeddings", true, "qkv's LM head is tied to wte");
  refuse("scale_attn_weights", true, "qkv's attention always scales by 1/sqrt(head dim)");
  refuse("scale_attn_by_inverse_layer_idx", false, "qkv's attention has no per-layer score scaling");
  refuse("add_cross_attention", false, "qkv's GPT is decoder-only");
  const drop = hf.resid_pdrop ?? 0;
  try {
    return gptConfig({
      vocabSize: int("vocab_size"), contextLength: int("n_positions"), numLayers: int("n_layer"),
      numHeads: H, numKvHeads: H, modelDim: C, positional: "learned", slidingWindow: null,
      dropout: typeof drop === "number" && drop >= 0 && drop < 1 ? drop : 0, bias: true, layerNormEps: eps as number,
    });
  } catch (e) {
    return bad((e as Error).message);
  }
}

/** qkv GPTConfig -> Hugging Face GPT-2 config.json fields; refuses what GPT-2 cannot express. */
export function gpt2ConfigToHf(c: GPTConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const fn = "gpt2ConfigToHf";
  const refuse = (cond: boolean, m: string) => {
    if (cond) throw new Gpt2FormatError(`${fn}: this model cannot be written as GPT-2: ${m}`);
  };
  refuse(c.positional !== "learned", `positional is '${c.positional}', GPT-2 has learned positions`);
  refuse(c.numKvHeads !== c.numHeads, `numKvHeads ${c.numKvHeads} != numHeads ${c.numHeads} (grouped-query attention)`);
  refuse(c.slidingWindow !== null, `slidingWindow is ${c.slidingWindow}, GPT-2 attends to all earlier positions`);
  refuse(!c.bias, "bias is false, GPT-2 has biases on every Linear and LayerNorm");
  return {
    model_type: "gpt2", architectures: ["GPT2LMHeadModel"],
    vocab_size: c.vocabSize, n_positions: c.contextLength, n_ctx: c.contextLength, n_embd: c.modelDim,
    n_layer: c.numLayers, n_head: c.numHeads, n_inner: null, activation_function: "gelu_new",
    layer_norm_epsilon: c.layerNormEps, resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout,
    initializer_range: 0.02, scale_attn_weights: true, use_cache: true, tie_word_embeddings: true,
    ...(c.vocabSize === 50257 ? { bos_token_id: 50256, eos_token_id: 50256 } : {}),
    ...extra,
  };
}

/** The model's parameters under GPT-2's names and shapes (c_attn concatenated, the rest shared, not copied), in file order. */
export function gpt2StateFromModel(model: GPT): Map<string, Tensor> {
  gpt2ConfigToHf(model.config);
  const state = model.stateDict();
  const out = new Map<string, Tensor>();
  for (const rule of gpt2NameRules(model.config.numLayers)) {
    const parts = rule.qkv.map((k) => state.get(k) as Tensor);
    out.set(rule.hf, parts.length === 1 ? parts[0] : concatLast(parts)); // single tensors share the model's storage
  }
  return out;
}

/** Tensors (..., n_k) concatenated along the last axis. */
function concatLast(parts: Tensor[]): Tensor {
  const shape = [...parts[0].shape];
  const widths = parts.map((p) => p.shape[p.ndim - 1]);
  const W = widths.reduce((a, b) => a + b, 0);
  const rows = parts[0].size / widths[0];
  const out = new Float32Array(rows * W);
  let col = 0;
  parts.forEach((p, j) => {
    const src = p.values, w = widths[j];
    for (let r = 0; r < rows; r++) out.set(src.subarray(r * w, (r + 1) * w), r * W + col);
    col += w;
  });
  shape[shape.length - 1] = W;
  return Tensor.fromArray(out, shape, "float32");
}

/** Parses config.json given as text, bytes or an object. */
export function parseHfConfig(config: PretrainedSource["config"], file = "config.json"): Record<string, unknown> {
  if (typeof config === "object" && !(config instanceof Uint8Array)) return config;
  let value: unknown;
  try {
    value = JSON.parse(typeof config === "string" ? config : new TextDecoder("utf-8", { fatal: true }).decode(config));
  } catch (e) {
    throw new Gpt2FormatError(`parseHfConfig: ${file} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Gpt2FormatError(`parseHfConfig: ${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * A Hugging Face GPT-2 (config.json + model.safetensors, names with or without `transformer.`)
 * as a qkv GPT in eval mode. Tensors are decoded one at a time straight into the model.
 */
export function fromPretrained(src: PretrainedSource): GPT {
  const fn = "fromPretrained";
  const cfgName = src.configName ?? "config.json", wName = src.weightsName ?? "model.safetensors";
  const config = gpt2ConfigFromHf(parseHfConfig(src.config, cfgName), cfgName);
  const weights = openWeights(src.weights, wName);
  const bad = (m: string): never => {
    throw new Gpt2FormatError(`${fn}: ${wName}: ${m}`);
  };
  // HF name (prefix stripped) -> name in the file
  const names = new Map<string, string>();
  for (const name of weights.names) {
    const bare = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
    if (names.has(bare)) bad(`tensors ${JSON.stringify(names.get(bare))} and ${JSON.stringify(name)} both name ${bare}`);
    names.set(bare, name);
  }
  const model = withoutInit(() => new GPT(config, { rng: new Rng(0) })); // every parameter is overwritten below
  const params = new Map(model.namedParameters());
  const rules = gpt2NameRules(config.numLayers);
  const known = new Set(rules.map((r) => r.hf));
  for (const [bare, name] of names) {
    if (known.has(bare) || bare === "lm_head.weight" || IGNORED.some((re) => re.test(bare))) continue;
    bad(`unexpected tensor ${JSON.stringify(name)}: not a GPT-2 parameter for n_layer=${config.numLayers} (${cfgName})`);
  }
  const cfgText = `${cfgName}: n_embd=${config.modelDim}, n_layer=${config.numLayers}, vocab_size=${config.vocabSize}, n_positions=${config.contextLength}`;
  for (const rule of rules) {
    const targets = rule.qkv.map((k) => params.get(k) as Tensor);
    const want = [...targets[0].shape];
    want[want.length - 1] = targets.reduce((n, t) => n + t.shape[t.ndim - 1], 0);
    const name = names.get(rule.hf);
    if (name === undefined) bad(`missing tensor ${JSON.stringify(rule.hf)} (shape [${want.join(", ")}] for ${cfgText})`);
    const t = weights.read(name as string);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      bad(`tensor ${JSON.stringify(name)} has shape [${t.shape.join(", ")}], but ${cfgText} needs [${want.join(", ")}]`);
    }
    if (t.dtype !== "float32" && t.dtype !== "float64") bad(`tensor ${JSON.stringify(name)} holds ${weights.dtype(name as string)}, expected floating point (F32, F16, BF16 or F64)`);
    splitLast(t, targets);
  }
  const head = names.get("lm_head.weight");
  if (head !== undefined) {
    // compared with the file's wte (host values), wherever the model's copy now lives
    const h = weights.read(head), wte = weights.read(names.get("wte.weight") as string).values;
    const same = h.size === wte.length && h.values.every((v, i) => v === wte[i]);
    if (!same) bad(`tensor ${JSON.stringify(head)} differs from wte.weight: qkv's LM head is tied to the token embedding`);
  }
  return model.eval();
}

/** Copies src (..., sum n_k) into the targets (..., n_k), splitting the last axis in order. */
function splitLast(src: Tensor, targets: Tensor[]): void {
  if (targets.length === 1) {
    assign(targets[0], src);
    return;
  }
  let col = 0;
  for (const t of targets) {
    const w = t.shape[t.ndim - 1];
    assign(t, slice(src, -1, col, col + w));
    col += w;
  }
}

/** Tensors read on demand (Node reads a large file tensor by tensor through this). */
export interface Gpt2TensorSource {
  names: string[];
  read(name: string): Tensor;
  /** The dtype as stored, for messages ("F16", "I32", ...). */
  dtype(name: string): string;
}

function openWeights(weights: PretrainedSource["weights"], file: string): Gpt2TensorSource {
  if (typeof weights === "object" && weights !== null && !(weights instanceof Map) && !(weights instanceof Uint8Array) && Array.isArray(weights.names)) return weights;
  if (weights instanceof Map) return { names: [...weights.keys()], read: (n) => weights.get(n) as Tensor, dtype: (n) => (weights.get(n) as Tensor).dtype };
  if (!(weights instanceof Uint8Array)) throw new Gpt2FormatError(`fromPretrained: ${file}: expected safetensors bytes (Uint8Array) or a Map of tensors`);
  let header: SafetensorsHeader;
  try {
    header = readSafetensorsHeader(weights);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new Gpt2FormatError(`fromPretrained: ${file} is not a valid safetensors file: ${e.message}`, { cause: e });
    throw e;
  }
  return {
    names: [...header.entries.keys()],
    read: (n) => {
      try {
        return readSafetensorsTensor(weights, header, n);
      } catch (e) {
        throw new Gpt2FormatError(`fromPretrained: ${file}: ${(e as Error).message}`, { cause: e });
      }
    },
    dtype: (n) => header.entries.get(n)?.dtype ?? "?",
  };
}
