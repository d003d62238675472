// The nanoGPT training loop as a library: AdamW with decay on matrices only, warmup + cosine LR,
// gradient accumulation and clipping, a NaN/Inf guard, periodic validation, and a state that
// resumes bit-identically. No files here: the CLI saves checkpoints through src/node.ts.
import { noGrad } from "../autograd/no-grad.js";
import { BatchSampler } from "../data/batches.js";
import type { GPT } from "../nn/gpt.js";
import { mul } from "../ops/elementwise.js";
import { tidy } from "../ops/memory.js";
import { AdamW } from "../optim/adam.js";
import { clipGradNorm, gradNorm, scaleToNorm } from "../optim/clip.js";
import type { Tensor } from "../tensor/tensor.js";
import { cosineWithWarmup, weightDecayGroups } from "../optim/schedule.js";
import { check } from "../util/assert.js";

export interface TrainConfig {
  /** Optimizer steps in the whole run (the cosine decay ends here). */
  steps: number;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are summed (averaged) into one step. */
  gradAccum: number;
  /** Peak learning rate after warmup; 1e-3 suits small models (nanoGPT shakespeare_char). */
  lr: number;
  /** Learning rate at the end of the cosine decay, usually lr / 10. */
  minLr: number;
  warmupSteps: number;
  /** AdamW decoupled weight decay, on tensors of 2 or more dimensions only. */
  weightDecay: number;
  beta1: number;
  /** 0.99 for small character models (nanoGPT), 0.95 for GPT-2 scale. */
  beta2: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  gradClip: number;
  /** Validation every this many steps (0: never), averaged over evalIters batches. */
  evalEvery: number;
  evalIters: number;
  /** Seeds the training batches; validation batches use seed + 1. */
  seed: number;
}

export const TRAIN_DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  steps: 2000, batchSize: 16, gradAccum: 1, lr: 1e-3, minLr: 1e-4, warmupSteps: 100,
  weightDecay: 0.1, beta1: 0.9, beta2: 0.99, gradClip: 1, evalEvery: 250, evalIters: 20, seed: 1337,
});

export interface StepResult {
  /** Steps completed, this one included. */
  step: number;
  /** Mean training loss over the step's micro-batches (nats per token). */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping (NaN when skipped). */
  gradNorm: number;
  /** Tokens consumed by this step. */
  tokens: number;
  /** Name of the first non-finite tensor when the step was skipped, else null. */
  skipped: string | null;
}

/** Everything besides parameters and optimizer buffers that an exact resume needs (JSON-able). */
export interface TrainerState {
  step: number;
  dataRng: { words: number[]; spare: number | null };
  dropoutRng: { words: number[]; spare: number | null };
}

export class Trainer {
  step = 0;
  readonly optimizer: AdamW;
  readonly #batches: BatchSampler;

  constructor(readonly model: GPT, readonly data: { train: Int32Array; val: Int32Array }, readonly config: TrainConfig) {
    const c = config;
    check(Number.isInteger(c.steps) && c.steps >= 0 && Number.isInteger(c.gradAccum) && c.gradAccum > 0, "Trainer", `steps and gradAccum must be non-negative / positive integers, got ${c.steps}, ${c.gradAccum}`);
    this.optimizer = new AdamW(weightDecayGroups(model.namedParameters(), c.weightDecay), { lr: c.lr, betas: [c.beta1, c.beta2], eps: 1e-8 });
    this.#batches = new BatchSampler(data.train, c.batchSize, model.config.contextLength, c.seed);
  }

  /** The learning rate of step `step` (0-based): warmup, cosine decay over the run, then minLr. */
  lrAt(step: number): number {
    const c = this.config;
    return cosineWithWarmup(step, { maxLr: c.lr, minLr: c.minLr, warmupSteps: Math.min(c.warmupSteps, c.steps), decaySteps: Math.max(c.steps, Math.min(c.warmupSteps, c.steps)) });
  }

  /** One optimizer step over gradAccum micro-batches; skipped (no update) if anything is NaN or Inf. */
  trainStep(): StepResult {
    const c = this.config, model = this.model, opt = this.optimizer;
    model.train();
    const lr = this.lrAt(this.step);
    opt.lr = lr;
    opt.zeroGrad();
    let total = 0;
    let skipped: string | null = null;
    for (let micro = 0; micro < c.gradAccum; micro++) {
      const { x, y } = this.#batches.next();
      const loss = model.loss(x, y);
      const value = loss.item();
      total += value;
      if (!Number.isFinite(value)) skipped ??= this.#firstNonFiniteParam() ?? "loss";
      else mul(loss, 1 / c.gradAccum).backward(); // mean over micro-batches
    }
    if (skipped === null) skipped = this.#firstNonFiniteGrad();
    let gradNorm = NaN;
    if (skipped === null) {
      gradNorm = clipGradNorm(model.parameters(), c.gradClip > 0 ? c.gradClip : Infinity);
      opt.step();
    }
    opt.zeroGrad();
    this.step++;
    return { step: this.step, loss: total / c.gradAccum, lr, gradNorm, tokens: c.gradAccum * c.batchSize * model.config.contextLength, skipped };
  }

  /**
   * trainStep on any backend, webgpu included: the step stays on the device and reads back only
   * each micro-batch's loss and the gradient norm (asynchronously). Same results as trainStep.
   */
  async trainStepAsync(): Promise<StepResult> {
    const c = this.config, model = this.model, opt = this.optimizer;
    model.train();
    const lr = this.lrAt(this.step);
    opt.lr = lr;
    opt.zeroGrad();
    const params = model.parameters();
    let total = 0;
    let skipped: string | null = null;
    for (let micro = 0; micro < c.gradAccum; micro++) {
      const { x, y } = this.#batches.next();
      // forward and backward in one tidy (the tape's saved activations die with it; the gradients,
      // reachable from the returned parameters, live on); a non-finite loss then skips the update
      const { loss } = tidy(() => {
        const l = model.loss(x, y);
        mul(l, 1 / c.gradAccum).backward(); // mean over micro-batches
        return { loss: l, params };
      });
      const value = await loss.itemAsync();
      total += value;
      if (!Number.isFinite(value)) skipped ??= (await this.#firstNonFiniteAsync("parameter", params)) ?? "loss";
    }
    let norm = NaN;
    if (skipped === null) {
      norm = await gradNorm(params).itemAsync();
      if (!Number.isFinite(norm)) skipped = (await this.#firstNonFiniteAsync("grad", params.map((p) => p.grad))) ?? "grad";
    }
    if (skipped === null) {
      tidy(() => {
        scaleToNorm(params, norm, c.gradClip > 0 ? c.gradClip : Infinity);
        opt.step();
      });
    }
    opt.zeroGrad();
    this.step++;
    return { step: this.step, loss: total / c.gradAccum, lr, gradNorm: norm, tokens: c.gradAccum * c.batchSize * model.config.contextLength, skipped };
  }

  /** The name of the first tensor holding a NaN or Inf (each read asynchronously), or null. */
  async #firstNonFiniteAsync(kind: "parameter" | "grad", tensors: (Tensor | null)[]): Promise<string | null> {
    const names = this.model.namedParameters().map(([n]) => n);
    for (const [i, t] of tensors.entries()) {
      if (t === null) continue;
      if (!(await t.data()).every(Number.isFinite)) return kind === "grad" ? `grad of ${names[i]}` : `parameter ${names[i]}`;
    }
    return null;
  }

  #firstNonFiniteParam(): string | null {
    for (const [name, p] of this.model.namedParameters()) if (!p.values.every(Number.isFinite)) return `parameter ${name}`;
    return null;
  }

  #firstNonFiniteGrad(): string | null {
    for (const [name, p] of this.model.namedParameters()) {
      const g = p.grad?.values;
      if (g === undefined) continue;
      for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return `grad of ${name}`;
    }
    return null;
  }

  /** Mean validation loss over evalIters fixed batches (the same ones every time), or null without enough data. */
  evaluate(): number | null {
    const losses = this.#validationLosses();
    return losses === null ? null : losses.reduce((sum, l) => sum + l.item(), 0) / losses.length;
  }

  /** evaluate() on any backend: the forward passes are encoded first, then each loss is read asynchronously. */
  async evaluateAsync(): Promise<number | null> {
    const losses = this.#validationLosses();
    if (losses === null) return null;
    let total = 0;
    for (const l of losses) total += await l.itemAsync();
    return total / losses.length;
  }

  /** The loss of each validation batch in eval mode without a tape (GPU temporaries freed), or null without enough data. */
  #validationLosses(): Tensor[] | null {
    const T = this.model.config.contextLength;
    if (this.data.val.length <= T || this.config.evalIters <= 0) return null;
    const batches = new BatchSampler(this.data.val, this.config.batchSize, T, this.config.seed + 1);
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return Array.from({ length: this.config.evalIters }, () => {
        const { x, y } = batches.next();
        return tidy(() => noGrad(() => this.model.loss(x, y)));
      });
    } finally {
      this.model.train(wasTraining);
    }
  }

  state(): TrainerState {
    return { step: this.step, dataRng: this.#batches.rng.getState(), dropoutRng: this.model.dropoutRng.getState() };
  }

  /** Restores what `state()` returned (parameters and optimizer buffers are loaded separately). */
  restore(s: TrainerState): void {
    check(Number.isInteger(s?.step) && s.step >= 0 && Array.isArray(s.dataRng?.words) && Array.isArray(s.dropoutRng?.words), "Trainer.restore", `expected {step, dataRng, dropoutRng}, got ${JSON.stringify(s)?.slice(0, 200)}`);
    this.step = s.step;
    this.#batches.rng.setState(s.dataRng);
    this.model.dropoutRng.setState(s.dropoutRng);
  }
}
