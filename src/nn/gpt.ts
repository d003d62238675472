// A GPT in nanoGPT's shape: token (+ position) embeddings, pre-LayerNorm blocks of causal
// self-attention and an MLP, a final LayerNorm and an LM head tied to the token embedding.
// Shape letters: B batch, T tokens, C model dim, V vocabulary, L layers.
import { noGrad } from "../autograd/no-grad.js";
import { dropout } from "../ops/dropout.js";
import { add, gelu } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { crossEntropy } from "../ops/loss.js";
import { matmulTransposed } from "../ops/matmul-transposed.js";
import { slice } from "../ops/movement.js";
import { assign } from "../ops/update.js";
import { randn, zeros } from "../tensor/create.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { Rng } from "../util/random.js";
import { sampleLogits, type SamplingOptions } from "../util/sampling.js";
import { MultiHeadAttention } from "./attention.js";
import { Embedding } from "./embedding.js";
import { initRng, isInitSkipped } from "./init.js";
import { KVCache } from "./kv-cache.js";
import { LayerNorm } from "./layer-norm.js";
import { Linear } from "./linear.js";
import { Module } from "./module.js";

export type Positional = "learned" | "rope" | "alibi";

export interface GPTConfig {
  /** Tokens in the vocabulary: 50257 for GPT-2's BPE, 65 for Shakespeare's characters. */
  vocabSize: number;
  /** Longest sequence (block size): learned positions have one row per position. */
  contextLength: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads: numHeads for plain multi-head attention, fewer for GQA, 1 for MQA. */
  numKvHeads: number;
  /** Width of the residual stream; each head gets modelDim / numHeads. */
  modelDim: number;
  /** 'learned' (GPT-2), 'rope' (rotary, on q and k) or 'alibi' (linear distance penalties). */
  positional: Positional;
  /** Rotary frequency base (positional 'rope' only). */
  ropeBase: number;
  /** Each token attends to at most this many latest positions, itself included; null: all. */
  slidingWindow: number | null;
  /** Dropout after embeddings, on attention weights and on residual branches: 0 for pretraining. */
  dropout: number;
  /** Biases in Linear and LayerNorm layers, as GPT-2; false is a little better and faster (nanoGPT). */
  bias: boolean;
  layerNormEps: number;
}

/** The GPT-2 small (124M) shape; nanoGPT's GPTConfig defaults, with GPT-2's unpadded vocabulary. */
export const GPT_DEFAULTS: Readonly<GPTConfig> = Object.freeze({
  vocabSize: 50257,
  contextLength: 1024,
  numLayers: 12,
  numHeads: 12,
  numKvHeads: 12,
  modelDim: 768,
  positional: "learned",
  ropeBase: 10000,
  slidingWindow: null,
  dropout: 0,
  bias: true,
  layerNormEps: 1e-5,
});

/** Named shapes; the vocabulary comes from the tokenizer. */
export const GPT_PRESETS = {
  /** 4 layers, 4 heads, width 128, context 128: trains on a laptop CPU in minutes. */
  nano: { numLayers: 4, numHeads: 4, numKvHeads: 4, modelDim: 128, contextLength: 128 },
  /** 6 layers, 6 heads, width 384, context 256: nanoGPT's Shakespeare-char model. */
  mini: { numLayers: 6, numHeads: 6, numKvHeads: 6, modelDim: 384, contextLength: 256, dropout: 0.2 },
  /** GPT-2 small, 124M parameters. */
  gpt2: { numLayers: 12, numHeads: 12, numKvHeads: 12, modelDim: 768, contextLength: 1024 },
} as const satisfies Record<string, Partial<GPTConfig>>;

export type GPTPreset = keyof typeof GPT_PRESETS;

/** A full, checked config: defaults, then the preset, then the overrides (numKvHeads follows numHeads). */
export function gptConfig(overrides: Partial<GPTConfig> = {}, preset?: GPTPreset): GPTConfig {
  const base = { ...GPT_DEFAULTS, ...(preset ? GPT_PRESETS[preset] : {}) };
  const c: GPTConfig = { ...base, ...overrides };
  if (overrides.numKvHeads === undefined) c.numKvHeads = overrides.numHeads ?? base.numKvHeads;
  const fn = "gptConfig";
  for (const key of ["vocabSize", "contextLength", "numLayers", "numHeads", "numKvHeads", "modelDim"] as const) {
    check(Number.isInteger(c[key]) && c[key] > 0, fn, `${key} must be a positive integer, got ${c[key]}`);
  }
  check(c.modelDim % c.numHeads === 0, fn, `modelDim ${c.modelDim} must be divisible by numHeads ${c.numHeads}`);
  check(c.numHeads % c.numKvHeads === 0, fn, `numHeads ${c.numHeads} must be a multiple of numKvHeads ${c.numKvHeads}`);
  check(["learned", "rope", "alibi"].includes(c.positional), fn, `positional must be 'learned', 'rope' or 'alibi', got ${JSON.stringify(c.positional)}`);
  check(c.positional !== "rope" || (c.modelDim / c.numHeads) % 2 === 0, fn, `rope needs an even head dim, got ${c.modelDim / c.numHeads}`);
  check(c.slidingWindow === null || (Number.isInteger(c.slidingWindow) && c.slidingWindow > 0), fn, `slidingWindow must be null or a positive integer, got ${c.slidingWindow}`);
  check(c.dropout >= 0 && c.dropout < 1, fn, `dropout must be in [0, 1), got ${c.dropout}`);
  return c;
}

/** Linear -> GELU (tanh approximation, as GPT-2) -> Linear, 4x wide. */
export class MLP extends Module {
  readonly fc: Linear;
  readonly proj: Linear;

  constructor(dim: number, opts: { bias: boolean; rng: Rng }) {
    super();
    this.fc = new Linear(dim, 4 * dim, opts);
    this.proj = new Linear(4 * dim, dim, opts);
  }

  forward(x: Tensor): Tensor {
    return this.proj.forward(gelu(this.fc.forward(x)));
  }
}

/** x = x + attn(ln1(x)); x = x + mlp(ln2(x)). */
export class Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;
  readonly #dropout: number;
  readonly #rng: Rng;

  constructor(c: GPTConfig, rng: Rng, dropoutRng: Rng) {
    super();
    this.ln1 = new LayerNorm(c.modelDim, { bias: c.bias, eps: c.layerNormEps });
    this.attn = new MultiHeadAttention({
      modelDim: c.modelDim, numHeads: c.numHeads, numKvHeads: c.numKvHeads, bias: c.bias, isCausal: true,
      rope: c.positional === "rope" ? { base: c.ropeBase } : false, alibi: c.positional === "alibi",
      slidingWindow: c.slidingWindow, dropout: c.dropout, rng, dropoutRng,
    });
    this.ln2 = new LayerNorm(c.modelDim, { bias: c.bias, eps: c.layerNormEps });
    this.mlp = new MLP(c.modelDim, { bias: c.bias, rng });
    this.#dropout = c.dropout;
    this.#rng = dropoutRng;
  }

  /** x (B, T, C) -> (B, T, C); with a cache, x holds the new tokens only. */
  forward(x: Tensor, opts: { cache?: KVCache; layer?: number } = {}): Tensor {
    const drop = (y: Tensor) => dropout(y, { p: this.#dropout, training: this.training, rng: this.#rng });
    x = add(x, drop(this.attn.forward(this.ln1.forward(x), { cache: opts.cache, layer: opts.layer })));
    return add(x, drop(this.mlp.forward(this.ln2.forward(x))));
  }
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate after the prompt. */
  maxNewTokens: number;
  /** The seeded generator for sampling (not needed when temperature is 0). */
  rng?: Rng;
}

/**
 * The model. Parameter names (stateDict keys), with Linear weights stored (in, out) like GPT-2's Conv1D:
 * tokenEmbedding.weight (V, C), positionEmbedding.weight (contextLength, C) for learned positions,
 * blocks.{i}.ln1.{weight,bias}, blocks.{i}.attn.{wQ,wK,wV,wO}.{weight,bias} (GPT-2's c_attn split in
 * three, c_proj), blocks.{i}.ln2.{weight,bias}, blocks.{i}.mlp.{fc,proj}.{weight,bias}, lnFinal.{weight,bias}.
 * The LM head is tokenEmbedding.weight transposed (no parameter of its own).
 */
export class GPT extends Module {
  readonly config: GPTConfig;
  readonly tokenEmbedding: Embedding; // (V, C), also the LM head
  readonly positionEmbedding: Embedding | null; // (contextLength, C) when positional is 'learned'
  readonly blocks: Block[];
  readonly lnFinal: LayerNorm;
  /** Draws dropout masks; its state belongs in a checkpoint for exact resumption. */
  readonly dropoutRng: Rng;

  /** Builds the model with GPT-2's initialisation drawn from `rng` (the default generator if omitted). */
  constructor(config: Partial<GPTConfig> = {}, opts: { rng?: Rng; dropoutSeed?: number } = {}) {
    super();
    const c = gptConfig(config);
    this.config = c;
    const rng = initRng(opts.rng);
    this.dropoutRng = new Rng(opts.dropoutSeed ?? 0);
    this.tokenEmbedding = new Embedding(c.vocabSize, c.modelDim, { std: 0.02, rng });
    this.positionEmbedding = c.positional === "learned" ? new Embedding(c.contextLength, c.modelDim, { std: 0.02, rng }) : null;
    this.blocks = Array.from({ length: c.numLayers }, () => new Block(c, rng, this.dropoutRng));
    this.lnFinal = new LayerNorm(c.modelDim, { bias: c.bias, eps: c.layerNormEps });
    this.#initWeights(rng);
  }

  /** nanoGPT's _init_weights: Linear N(0, 0.02) and zero bias; residual projections N(0, 0.02 / sqrt(2L)). */
  #initWeights(rng: Rng): void {
    if (isInitSkipped()) return;
    const residualStd = 0.02 / Math.sqrt(2 * this.config.numLayers);
    for (const block of this.blocks) {
      for (const lin of [block.attn.wQ, block.attn.wK, block.attn.wV, block.attn.wO, block.mlp.fc, block.mlp.proj]) {
        const std = lin === block.attn.wO || lin === block.mlp.proj ? residualStd : 0.02;
        assign(lin.weight, randn(lin.weight.shape, rng, { std }));
        if (lin.bias) assign(lin.bias, zeros(lin.bias.shape));
      }
    }
  }

  /** Parameters counted once (the LM head is the token embedding). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * int32 ids (B, T) -> logits (B, T, V). With a cache, ids are the new tokens only and sit at
   * positions cache.length() onwards; every layer's keys and values are appended to the cache.
   */
  forward(ids: Tensor, opts: { cache?: KVCache } = {}): Tensor {
    const c = this.config, cache = opts.cache;
    check(ids instanceof Tensor && ids.dtype === "int32" && ids.ndim === 2, "GPT.forward", () => `expected int32 ids (B, T), got ${ids instanceof Tensor ? `${fmtShape(ids.shape)} ${ids.dtype}` : typeof ids}`);
    check(cache === undefined || cache.numLayers === c.numLayers, "GPT.forward", () => `cache has ${cache?.numLayers} layers, the model ${c.numLayers}`);
    const T = ids.shape[1];
    const offset = cache ? cache.length() : 0;
    check(offset + T <= c.contextLength, "GPT.forward", `positions ${offset}..${offset + T - 1} exceed the context length ${c.contextLength}`);
    let x = this.tokenEmbedding.forward(ids); // (B, T, C)
    if (this.positionEmbedding) {
      const pos = Tensor.fromArray(Int32Array.from({ length: T }, (_, t) => offset + t), [T], "int32");
      x = add(x, this.positionEmbedding.forward(pos)); // (T, C) broadcast over B
    }
    x = dropout(x, { p: c.dropout, training: this.training, rng: this.dropoutRng });
    this.blocks.forEach((block, layer) => (x = block.forward(x, { cache, layer })));
    x = this.lnFinal.forward(x);
    return matmulTransposed(x, this.tokenEmbedding.weight); // (B, T, C) @ (V, C)^T -> (B, T, V), no transposed copy
  }

  /** Mean next-token cross-entropy of ids (B, T) against targets (B, T), in nats. */
  loss(ids: Tensor, targets: Tensor): Tensor {
    return crossEntropy(this.forward(ids), targets);
  }

  /**
   * Yields new token ids one at a time after `prompt`, decoding with a KV cache in eval mode.
   * When the cache reaches the context length it restarts from the latest half of the tokens.
   * Host backends; on webgpu use generateAsync.
   */
  *generate(prompt: readonly number[], opts: GenerateOptions): Generator<number, void, undefined> {
    const rng = this.#checkGenerate("GPT.generate", prompt, opts);
    const steps = this.#decode(prompt, opts.maxNewTokens);
    try {
      for (let r = steps.next(); !r.done; ) {
        const next = sampleLogits(r.value.values, rng, opts);
        yield next;
        r = steps.next(next);
      }
    } finally {
      steps.return(); // restores training mode when the caller stops early
    }
  }

  /** generate() on any backend, webgpu included: each step's logits are read asynchronously. */
  async *generateAsync(prompt: readonly number[], opts: GenerateOptions): AsyncGenerator<number, void, undefined> {
    const rng = this.#checkGenerate("GPT.generateAsync", prompt, opts);
    const steps = this.#decode(prompt, opts.maxNewTokens);
    try {
      for (let r = steps.next(); !r.done; ) {
        const next = sampleLogits(await r.value.data(), rng, opts);
        yield next;
        r = steps.next(next);
      }
    } finally {
      steps.return(); // restores training mode when the caller stops early
    }
  }

  #checkGenerate(fn: string, prompt: readonly number[], opts: GenerateOptions): Rng {
    check(prompt.length > 0, fn, "the prompt must hold at least one token");
    check(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0, fn, `maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
    check(opts.rng !== undefined || opts.temperature === 0, fn, "sampling needs a seeded rng (or temperature 0)");
    return opts.rng ?? new Rng(0);
  }

  /** The decoding loop: yields the last position's logits (V) and is sent back the chosen token. */
  *#decode(prompt: readonly number[], maxNewTokens: number): Generator<Tensor, void, number> {
    const c = this.config;
    const wasTraining = this.training;
    this.eval();
    try {
      const cache = new KVCache(c.numLayers);
      const tokens = [...prompt];
      const run = (ids: readonly number[]) => noGrad(() => {
        const logits = this.forward(Tensor.fromArray(Int32Array.from(ids), [1, ids.length], "int32"), { cache }); // (1, T, V)
        return slice(logits, 1, ids.length - 1).reshape([c.vocabSize]); // the last position's V logits
      });
      let last = run(tokens.slice(-c.contextLength));
      for (let i = 0; i < maxNewTokens; i++) {
        const next: number = yield last;
        tokens.push(next);
        if (i === maxNewTokens - 1) break;
        if (cache.length() >= c.contextLength) {
          cache.reset();
          last = run(tokens.slice(-Math.max(1, Math.floor(c.contextLength / 2))));
        } else last = run([next]);
      }
    } finally {
      this.train(wasTraining);
    }
  }
}
