// The loop shared by `qkv train` and `qkv resume`: steps, progress or JSON lines, validation,
// checkpoints, and Ctrl-C that saves before exiting.
import { resolve } from "node:path";
import type { Tokenizer } from "../data/tokenizer.js";
import type { GPTConfig } from "../nn/gpt.js";
import { saveCheckpoint } from "../node.js";
import { hostTensors } from "../ops/place.js";
import type { TrainConfig, Trainer } from "../train/trainer.js";
import { Rng } from "../util/random.js";
import { streamSample } from "./commands/sample.js";
import { onGpu } from "./backend-flag.js";
import { ProgressBar } from "./progress.js";
import { gptExplainable } from "./gpt-view.js";
import { startLiveVisualizer, type LiveVisualizer } from "./visualize.js";

/** What state.json keeps so that `qkv resume DIR` needs nothing else. */
export interface RunOptions {
  /** Absolute path of the training text, or null for the bundled Moby-Dick. */
  data: string | null;
  /** Tokens in the corpus when training started (resume refuses a changed file). */
  dataTokens: number;
  valFraction: number;
  model: GPTConfig;
  train: TrainConfig;
  out: string;
  saveEvery: number;
  keep: number;
  json: boolean;
  /** Tokens to sample when training ends (0: none). */
  sample: number;
  /** Kernel backend; resume uses the same one, so its losses match bit for bit. */
  backend: string;
}

export interface LoopContext {
  trainer: Trainer;
  tokenizer: Tokenizer;
  options: RunOptions;
  /** --serve: the live visualizer's interface and port (not saved: a resume asks again). */
  serve?: { host?: string; port?: number } | null;
}

const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Saves a checkpoint of the run as it stands; returns its directory. */
export async function saveRun(ctx: LoopContext, valLoss: number | null): Promise<string> {
  const { trainer, tokenizer, options } = ctx;
  return saveCheckpoint(resolve(options.out), {
    config: { ...trainer.model.config },
    model: await hostTensors(trainer.model.stateDict()),
    optimizer: await hostTensors(trainer.optimizer.stateDict()),
    state: {
      step: trainer.step,
      trainer: trainer.state(),
      lr: trainer.lrAt(Math.max(0, trainer.step - 1)),
      valLoss,
      tokenizer: tokenizer.toJSON(),
      options,
    },
  }, { keep: options.keep });
}

/** Trains until options.train.steps (or Ctrl-C); returns the process exit code. */
export async function runTraining(ctx: LoopContext): Promise<number> {
  const { trainer, tokenizer, options } = ctx;
  const { steps, evalEvery } = options.train;
  const gpu = onGpu(); // webgpu: steps and evaluations read their results asynchronously
  if (gpu && ctx.serve) throw new Error("qkv train: --serve needs a host backend (js or wasm); the visualizer reads the model synchronously");
  const log = (obj: Record<string, unknown>) => options.json && process.stdout.write(JSON.stringify(obj) + "\n");
  const note = (text: string) => !options.json && process.stderr.write(text + "\n");
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the save
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  // a resumed run counts from where it started, so the ETA uses this session's speed
  const start = trainer.step;
  const bar = new ProgressBar({ total: steps - start, label: start > 0 ? `train (from step ${start})` : "train", mode: options.json ? "silent" : undefined });
  note(`qkv train: ${trainer.model.numParameters().toLocaleString("en-US")} parameters, ${trainer.data.train.length.toLocaleString("en-US")} training tokens, ${tokenizer.kind} tokenizer (vocab ${tokenizer.vocabSize}), ${options.backend} backend, checkpoints in ${resolve(options.out)}`);
  let valLoss: number | null = null;
  let lastSaved = -1;
  let viz: LiveVisualizer | null = null;
  if (ctx.serve) {
    // the page follows the model on a fixed window of validation text (training text if none)
    const src = trainer.data.val.length > 1 ? trainer.data.val : trainer.data.train;
    const ids = Array.from(src.subarray(0, Math.min(src.length, trainer.model.config.contextLength, 64)));
    viz = await startLiveVisualizer(() => gptExplainable(trainer.model, ids, (id) => tokenizer.decode([id]), `qkv train: step ${trainer.step}`), ctx.serve);
    note(`qkv train: visualizer at ${viz.url}`);
  }
  try {
    while (trainer.step < steps) {
      if (interrupted) break;
      const t0 = performance.now();
      const r = gpu ? await trainer.trainStepAsync() : trainer.trainStep();
      const tokensPerSec = r.tokens / ((performance.now() - t0) / 1000);
      log({ type: "step", step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, tokensPerSec, skipped: r.skipped });
      if (r.skipped !== null) note(`\nstep ${r.step}: skipped, ${r.skipped} is not finite`);
      if ((evalEvery > 0 && r.step % evalEvery === 0) || r.step === steps) {
        valLoss = gpu ? await trainer.evaluateAsync() : trainer.evaluate();
        if (valLoss !== null) log({ type: "eval", step: r.step, valLoss });
      }
      const fields: Record<string, string> = { loss: fmt(r.loss), "tok/s": Math.round(tokensPerSec).toString() };
      if (valLoss !== null) fields.val = fmt(valLoss);
      bar.update(r.step - start, fields);
      if ((options.saveEvery > 0 && r.step % options.saveEvery === 0) || r.step === steps) {
        const dir = await saveRun(ctx, valLoss);
        lastSaved = r.step;
        log({ type: "checkpoint", step: r.step, dir });
      }
      await viz?.step(r.step, r.loss);
      await new Promise((res) => setImmediate(res)); // lets a pending Ctrl-C run its handler
    }
    bar.finish(trainer.step - start, valLoss !== null ? { val: fmt(valLoss) } : {});
    if (interrupted) {
      const dir = lastSaved === trainer.step ? null : await saveRun(ctx, valLoss);
      log({ type: "interrupted", step: trainer.step, dir });
      note(`interrupted at step ${trainer.step}${dir ? `; saved ${dir}` : ""}. Continue with: qkv resume ${resolve(options.out)}`);
      await viz?.close();
      return 130;
    }
    log({ type: "done", step: trainer.step, valLoss });
    process.off("SIGINT", onSigint); // the run is saved: Ctrl-C may now simply end the sample
    if (options.sample > 0 && !options.json) {
      note(`\nsample (${options.sample} tokens, temperature 0.8, top-k 200):`);
      await streamSample(trainer.model, tokenizer, "", { maxNewTokens: options.sample, temperature: 0.8, topK: 200, rng: new Rng(options.train.seed) });
    }
    if (viz) {
      note(`qkv train: done; still serving ${viz.url} (Ctrl-C to stop)`);
      await viz.serveForever();
      viz = null;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await viz?.close();
  }
}
