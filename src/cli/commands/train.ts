// qkv train [FILE]: train a GPT on a text file (default: the bundled Moby-Dick) with checkpoints.
import { resolve } from "node:path";
import { splitTokens } from "../../data/batches.js";
import { CharTokenizer, Gpt2Tokenizer, type Tokenizer } from "../../data/tokenizer.js";
import { GPT, GPT_PRESETS, gptConfig, type GPTConfig, type GPTPreset, type Positional } from "../../nn/gpt.js";
import { Trainer, TRAIN_DEFAULTS, type TrainConfig } from "../../train/trainer.js";
import { Rng } from "../../util/random.js";
import { choiceFlag, numberFlag, parseFlags, UsageError, type Command } from "../args.js";
import { readCorpus } from "../corpus.js";
import { useBackend } from "../backend-flag.js";
import { runTraining, type RunOptions } from "../train-loop.js";
import { getBackend } from "../../backend/select.js";

const d = TRAIN_DEFAULTS;
const usage = `Usage: qkv train [FILE] [options]

Trains a GPT on FILE (UTF-8 text; default: Moby-Dick, bundled) and writes checkpoints to --out.
Ctrl-C saves a checkpoint and stops; "qkv resume DIR" continues exactly where it stopped.

Model:
  --preset NAME        nano (4 layers, 4 heads, width 128, context 128), mini (6, 6, 384, 256) or gpt2 (default nano)
  --layers N  --heads N  --kv-heads N  --dim N  --context N     override the preset's shape
  --positional KIND    learned, rope or alibi (default learned)
  --window N           sliding-window attention over the last N positions (default: off)
  --dropout P          dropout probability (default: the preset's, 0 for nano)
  --no-bias            no biases in Linear and LayerNorm layers
  --tokenizer KIND     char or gpt2 (byte-level BPE) (default char)

Training:
  --steps N            optimizer steps (default ${d.steps})
  --batch N            sequences per micro-batch (default ${d.batchSize})
  --accum N            micro-batches per step, gradient accumulation (default ${d.gradAccum})
  --lr X               peak learning rate (default ${d.lr})
  --min-lr X           final learning rate of the cosine decay (default lr / 10)
  --warmup N           linear warmup steps (default ${d.warmupSteps})
  --weight-decay X     AdamW decay on weight matrices and embeddings (default ${d.weightDecay})
  --beta2 X            AdamW beta2 (default ${d.beta2})
  --clip X             clip the gradient norm to X, 0 for no clipping (default ${d.gradClip})
  --eval-every N       validation loss every N steps, 0 for never (default ${d.evalEvery})
  --eval-iters N       batches per validation (default ${d.evalIters})
  --val-fraction X     the last X of the text is validation data (default 0.1)
  --seed N             seed for initialisation and batches (default ${d.seed})

Output:
  --out DIR            checkpoint folder (default checkpoints)
  --save-every N       checkpoint every N steps (default: --eval-every; always at the end)
  --keep N             checkpoints kept, oldest removed first (default 3)
  --sample N           tokens to sample when done (default 200; 0 for none)
  --json               one JSON object per line on stdout instead of the progress bar
  --backend NAME       kernel backend: js, wasm or webgpu (default: wasm where supported)
  --serve              open the attention visualizer while training: prints a local URL; the loss curve
                       and attention maps update live (Ctrl-C stops serving when training is done)
  --host HOST          interface for --serve (default 127.0.0.1; anything else is warned about)
  --port N             port for --serve (default: a random free port)`;

const flags = {
  preset: { type: "string" }, layers: { type: "string" }, heads: { type: "string" }, "kv-heads": { type: "string" },
  dim: { type: "string" }, context: { type: "string" }, positional: { type: "string" }, window: { type: "string" },
  dropout: { type: "string" }, "no-bias": { type: "boolean" }, tokenizer: { type: "string" },
  steps: { type: "string" }, batch: { type: "string" }, accum: { type: "string" }, lr: { type: "string" },
  "min-lr": { type: "string" }, warmup: { type: "string" }, "weight-decay": { type: "string" }, beta2: { type: "string" },
  clip: { type: "string" }, "eval-every": { type: "string" }, "eval-iters": { type: "string" }, "val-fraction": { type: "string" },
  seed: { type: "string" }, out: { type: "string" }, "save-every": { type: "string" }, keep: { type: "string" },
  sample: { type: "string" }, json: { type: "boolean" }, backend: { type: "string" },
  serve: { type: "boolean" }, host: { type: "string" }, port: { type: "string" },
} as const;

export const train: Command = {
  name: "train",
  summary: "train a GPT on a text file (default: Moby-Dick), with checkpoints and samples",
  usage,
  async run(argv) {
    const parsed = parseFlags("train", argv, flags, { positionals: 1 });
    const v = parsed.values as Record<string, string | boolean | undefined>, positionals = parsed.positionals; // FlagSpec is untyped
    const int = (name: keyof typeof flags, fallback: number, min = 1) => (v[name] === undefined ? fallback : numberFlag("train", name, v[name], { min }));
    const num = (name: keyof typeof flags, fallback: number, min = 0, max = Infinity) => (v[name] === undefined ? fallback : numberFlag("train", name, v[name], { min, max, integer: false }));
    const preset: GPTPreset = v.preset === undefined ? "nano" : choiceFlag("train", "preset", v.preset, Object.keys(GPT_PRESETS) as GPTPreset[]);
    const kind = v.tokenizer === undefined ? "char" : choiceFlag("train", "tokenizer", v.tokenizer, ["char", "gpt2"] as const);
    const lr = num("lr", d.lr, 0);
    const trainConfig: TrainConfig = {
      steps: int("steps", d.steps), batchSize: int("batch", d.batchSize), gradAccum: int("accum", d.gradAccum),
      lr, minLr: num("min-lr", lr / 10), warmupSteps: int("warmup", d.warmupSteps, 0),
      weightDecay: num("weight-decay", d.weightDecay), beta1: d.beta1, beta2: num("beta2", d.beta2, 0, 0.999999),
      gradClip: num("clip", d.gradClip), evalEvery: int("eval-every", d.evalEvery, 0), evalIters: int("eval-iters", d.evalIters),
      seed: int("seed", d.seed, 0),
    };
    const overrides: Partial<GPTConfig> = {};
    if (v.layers !== undefined) overrides.numLayers = int("layers", 0);
    if (v.heads !== undefined) overrides.numHeads = int("heads", 0);
    if (v["kv-heads"] !== undefined) overrides.numKvHeads = int("kv-heads", 0);
    if (v.dim !== undefined) overrides.modelDim = int("dim", 0);
    if (v.context !== undefined) overrides.contextLength = int("context", 0);
    if (v.positional !== undefined) overrides.positional = choiceFlag<Positional>("train", "positional", v.positional, ["learned", "rope", "alibi"]);
    if (v.window !== undefined) overrides.slidingWindow = int("window", 0);
    if (v.dropout !== undefined) overrides.dropout = num("dropout", 0, 0, 0.99);
    if (v["no-bias"]) overrides.bias = false;
    await useBackend("train", v.backend as string | undefined);
    const valFraction = num("val-fraction", 0.1, 0, 0.9);
    const saveEvery = int("save-every", trainConfig.evalEvery, 0);
    const data = positionals[0] === undefined ? null : resolve(positionals[0]);

    const text = readCorpus(data);
    const tokenizer: Tokenizer = kind === "char" ? CharTokenizer.fromText(text) : await Gpt2Tokenizer.load();
    const tokens = Int32Array.from(tokenizer.encode(text));
    let config: GPTConfig;
    try {
      config = gptConfig({ ...overrides, vocabSize: tokenizer.vocabSize }, preset);
    } catch (err) {
      throw new UsageError(`train: ${(err as Error).message}`);
    }
    const split = splitTokens(tokens, valFraction);
    if (split.train.length <= config.contextLength) throw new UsageError(`train: ${split.train.length} training tokens is too few for context ${config.contextLength}`);
    const model = new GPT(config, { rng: new Rng(trainConfig.seed), dropoutSeed: trainConfig.seed + 2 });
    const options: RunOptions = {
      data, dataTokens: tokens.length, valFraction, model: config, train: trainConfig,
      out: resolve(typeof v.out === "string" ? v.out : "checkpoints"), saveEvery, keep: int("keep", 3),
      json: v.json === true, sample: int("sample", 200, 0), backend: getBackend(),
    };
    const serve = v.serve ? { host: typeof v.host === "string" ? v.host : undefined, port: v.port === undefined ? 0 : numberFlag("train", "port", v.port, { min: 0, max: 65535 }) } : null;
    return runTraining({ trainer: new Trainer(model, split, trainConfig), tokenizer, options, serve });
  },
};
