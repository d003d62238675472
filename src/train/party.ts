// Training and evaluation for `qkv party`, browser-safe: the CLI and the web page drive the same
// PartyTrainer one step at a time (the page between animation frames, the CLI under a progress bar).
import { noGrad } from "../autograd/no-grad.js";
import { generateParties, MAX_GUESTS, MIN_GUESTS, PARTY_NAMES, PARTY_STORIES, partyTensors, type PartyBatch } from "../data/party.js";
import { PartyModel } from "../nn/party.js";
import { crossEntropy } from "../ops/loss.js";
import { tidy } from "../ops/memory.js";
import { Adam } from "../optim/adam.js";
import { clipGradNorm, clipGradNormAsync } from "../optim/clip.js";
import type { Optimizer } from "../optim/optimizer.js";
import { SGD } from "../optim/sgd.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { Rng } from "../util/random.js";

export type PartyOptimizer = "adam" | "sgd";

export interface PartyTrainOptions {
  /** Seeds the model's initial weights and the stream of training parties (default 0). */
  seed?: number;
  /** Optimizer steps (default 400). */
  steps?: number;
  /** N: guests per party (default 8). */
  guests?: number;
  /** "adam" (default) or "sgd" (with momentum 0.9). */
  optimizer?: PartyOptimizer;
  /** Learning rate; default per optimizer (PARTY_DEFAULT_LR). */
  lr?: number;
  /** Parties per step (default 64). */
  batchSize?: number;
  /** C: model width (default 32). */
  modelDim?: number;
  /** Clip the global gradient norm to this (default 1; 0 turns clipping off). */
  clip?: number;
}

/** Default learning rates: SGD with momentum needs a much larger step than Adam's normalised one. */
export const PARTY_DEFAULT_LR: Readonly<Record<PartyOptimizer, number>> = { adam: 0.01, sgd: 0.15 };

export const PARTY_DEFAULTS = { seed: 0, steps: 400, guests: 8, optimizer: "adam" as PartyOptimizer, batchSize: 64, modelDim: 32, clip: 1 };

export interface PartyStepStats {
  step: number;
  /** Cross-entropy of this step's batch. */
  loss: number;
  /** Share of this step's batch answered right. */
  accuracy: number;
  /** Exponential moving averages (about the last 20 steps), for progress displays. */
  smoothLoss: number;
  smoothAccuracy: number;
}

/** One evaluated question, with everything the party map shows. */
export interface PartyExample {
  guests: { name: string; story: string }[];
  asker: number; // guest index
  target: number; // guest index
  /** The asker's attention over the guests (mean over heads), summing to 1. */
  attention: number[];
  /** Guest with the largest attention. */
  listenedTo: number;
  /** Story id the model answered, and whether it is the target's story. */
  answer: string;
  correct: boolean;
}

export interface PartyEvaluation {
  parties: number;
  /** Share of questions answered with the target's story. */
  accuracy: number;
  /** Among correct answers, the share whose strongest attention is on the target. */
  attentionHitRate: number;
  /** Cross-entropy over all evaluated parties. */
  loss: number;
  /** The first `examples` questions, in order. */
  examples: PartyExample[];
  /** Up to `examples` questions answered wrong or whose strongest attention missed the target. */
  mistakes: PartyExample[];
}

/** Independent streams from one user seed (init, training parties, evaluation parties). */
export function partySeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
}

export class PartyTrainer {
  readonly model: PartyModel;
  readonly optimizer: Optimizer;
  readonly options: Required<PartyTrainOptions>;
  step = 0;
  #rng: Rng;
  #smoothLoss = NaN;
  #smoothAccuracy = NaN;

  constructor(opts: PartyTrainOptions = {}) {
    const fn = "PartyTrainer";
    const optimizer = opts.optimizer ?? PARTY_DEFAULTS.optimizer;
    check(optimizer === "adam" || optimizer === "sgd", fn, `optimizer must be "adam" or "sgd", got ${JSON.stringify(optimizer)}`);
    const o: Required<PartyTrainOptions> = { ...PARTY_DEFAULTS, ...stripUndefined(opts), optimizer, lr: opts.lr ?? PARTY_DEFAULT_LR[optimizer] };
    check(Number.isInteger(o.guests) && o.guests >= MIN_GUESTS && o.guests <= MAX_GUESTS, fn, `guests must be an integer in [${MIN_GUESTS}, ${MAX_GUESTS}], got ${o.guests}`);
    check(Number.isInteger(o.steps) && o.steps >= 0, fn, `steps must be a non-negative integer, got ${o.steps}`);
    check(Number.isFinite(o.lr) && o.lr > 0, fn, `lr must be a positive number, got ${o.lr}`);
    this.options = o;
    this.model = new PartyModel({ numNames: PARTY_NAMES.length, numStories: PARTY_STORIES.length, modelDim: o.modelDim, rng: new Rng(partySeed(o.seed, 0)) });
    const params = this.model.parameters();
    this.optimizer = optimizer === "adam" ? new Adam(params, { lr: o.lr }) : new SGD(params, { lr: o.lr, momentum: 0.9 });
    this.#rng = new Rng(partySeed(o.seed, 1));
  }

  get done(): boolean {
    return this.step >= this.options.steps;
  }

  /** One optimizer step on a fresh batch of parties (host backends: reads results synchronously). */
  trainStep(): PartyStepStats {
    const { loss, logits, answers } = this.#forwardBackward();
    if (this.options.clip > 0) clipGradNorm(this.model.parameters(), this.options.clip);
    this.optimizer.step();
    return this.#stats(loss.item(), logits.values, answers);
  }

  /**
   * trainStep on any backend, webgpu included: the step stays on the device and only the loss,
   * the logits and the gradient norm are read back, asynchronously. Temporaries are freed per step.
   */
  async trainStepAsync(): Promise<PartyStepStats> {
    const params = this.model.parameters();
    // the gradients come out of the tidy attached to the returned parameters; everything else is freed
    const { loss, logits, answers } = tidy(() => ({ ...this.#forwardBackward(), params }));
    if (this.options.clip > 0) await clipGradNormAsync(params, this.options.clip);
    tidy(() => this.optimizer.step());
    const [lossValue, logitValues] = await Promise.all([loss.itemAsync(), logits.data()]);
    return this.#stats(lossValue, logitValues, answers);
  }

  /** The forward and backward pass of one step on a fresh batch, with the scheduled learning rate set. */
  #forwardBackward(): { loss: Tensor; logits: Tensor; answers: Int32Array } {
    const { batchSize, guests, steps } = this.options;
    // cosine decay to 10% of lr: the last steps polish instead of bouncing
    const progress = steps > 0 ? Math.min(1, this.step / steps) : 1;
    const base = this.options.lr;
    this.optimizer.lr = base * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
    this.model.train();
    const batch = generateParties(this.#rng, batchSize, guests);
    const t = partyTensors(batch);
    const { logits } = this.model.forward(t.names, t.stories, t.askerName, t.targetName);
    const loss = crossEntropy(logits, t.answer);
    this.optimizer.zeroGrad();
    loss.backward();
    const answers = Int32Array.from({ length: batch.size }, (_, b) => batch.stories[b * batch.guests + batch.target[b]]);
    return { loss, logits, answers };
  }

  #stats(lossValue: number, logits: ArrayLike<number>, answers: Int32Array): PartyStepStats {
    this.step++;
    const accuracy = countCorrect(logits, answers, PARTY_STORIES.length) / answers.length;
    const a = 0.05;
    this.#smoothLoss = Number.isNaN(this.#smoothLoss) ? lossValue : (1 - a) * this.#smoothLoss + a * lossValue;
    this.#smoothAccuracy = Number.isNaN(this.#smoothAccuracy) ? accuracy : (1 - a) * this.#smoothAccuracy + a * accuracy;
    return { step: this.step, loss: lossValue, accuracy, smoothLoss: this.#smoothLoss, smoothAccuracy: this.#smoothAccuracy };
  }

  /** Answers `parties` fresh parties from an evaluation stream the training never draws from. */
  evaluate(parties = 1000, opts: { examples?: number; chunk?: number } = {}): PartyEvaluation {
    const run = this.#evaluation(parties, opts);
    for (const batch of run.batches()) run.add(this.#answer(batch));
    return run.result();
  }

  /** evaluate() on any backend, webgpu included (reads each chunk's results asynchronously). */
  async evaluateAsync(parties = 1000, opts: { examples?: number; chunk?: number } = {}): Promise<PartyEvaluation> {
    const run = this.#evaluation(parties, opts);
    for (const batch of run.batches()) run.add(await this.#answerAsync(batch));
    return run.result();
  }

  /** The evaluation parties in chunks, and a tally of the answers given to them. */
  #evaluation(parties: number, opts: { examples?: number; chunk?: number }) {
    check(Number.isInteger(parties) && parties > 0, "PartyTrainer.evaluate", `expected a positive number of parties, got ${parties}`);
    const rng = new Rng(partySeed(this.options.seed, 2));
    const chunk = opts.chunk ?? 250, wantExamples = opts.examples ?? 0, guests = this.options.guests;
    let correct = 0, hits = 0, lossSum = 0;
    const examples: PartyExample[] = [], mistakes: PartyExample[] = [];
    return {
      *batches(): Generator<PartyBatch> {
        for (let done = 0; done < parties; done += chunk) yield generateParties(rng, Math.min(chunk, parties - done), guests);
      },
      add({ answers, loss }: { answers: PartyExample[]; loss: number }): void {
        lossSum += loss;
        for (const ex of answers) {
          if (ex.correct) {
            correct++;
            if (ex.listenedTo === ex.target) hits++;
          }
          if (examples.length < wantExamples) examples.push(ex);
          if (mistakes.length < wantExamples && (!ex.correct || ex.listenedTo !== ex.target)) mistakes.push(ex);
        }
      },
      result: (): PartyEvaluation => ({ parties, accuracy: correct / parties, attentionHitRate: correct > 0 ? hits / correct : 0, loss: lossSum / parties, examples, mistakes }),
    };
  }

  /** The model's answer and attention for each party of `batch` (no training; for displays). */
  answer(batch: PartyBatch): PartyExample[] {
    return this.#answer(batch).answers;
  }

  #answer(batch: PartyBatch): { answers: PartyExample[]; loss: number } {
    const { logits, weights, loss } = this.#answerTensors(batch);
    return { answers: scoreBatch(batch, logits.values, weights.values, this.model.attn.numHeads), loss: loss.item() };
  }

  async #answerAsync(batch: PartyBatch): Promise<{ answers: PartyExample[]; loss: number }> {
    const { logits, weights, loss } = tidy(() => this.#answerTensors(batch));
    const [l, w, s] = await Promise.all([logits.data(), weights.data(), loss.itemAsync()]);
    return { answers: scoreBatch(batch, l, w, this.model.attn.numHeads), loss: s };
  }

  /** Logits (B, V), attention weights (B, H, N) and the summed loss of `batch`, in eval mode without a tape. */
  #answerTensors(batch: PartyBatch): { logits: Tensor; weights: Tensor; loss: Tensor } {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return noGrad(() => {
        const t = partyTensors(batch);
        const { logits, weights } = this.model.forward(t.names, t.stories, t.askerName, t.targetName, { returnWeights: true });
        return { logits, weights: weights as Tensor, loss: crossEntropy(logits, t.answer, { reduction: "sum" }) };
      });
    } finally {
      this.model.train(wasTraining);
    }
  }
}

/** Per-party answers and attention from flat logits (B, V) and weights (B, H, N). */
function scoreBatch(batch: PartyBatch, logits: ArrayLike<number>, weights: ArrayLike<number>, H: number): PartyExample[] {
  const { size: B, guests: N } = batch;
  const V = PARTY_STORIES.length;
  const out: PartyExample[] = [];
  for (let b = 0; b < B; b++) {
    const answer = argmaxRow(logits, b * V, V);
    const attention: number[] = [];
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += weights[(b * H + h) * N + n];
      attention.push(s / H);
    }
    const listenedTo = argmaxRow(attention, 0, N);
    const guests = [];
    for (let n = 0; n < N; n++) guests.push({ name: PARTY_NAMES[batch.names[b * N + n]], story: PARTY_STORIES[batch.stories[b * N + n]] });
    const target = batch.target[b];
    out.push({ guests, asker: batch.asker[b], target, attention, listenedTo, answer: PARTY_STORIES[answer], correct: answer === batch.stories[b * N + target] });
  }
  return out;
}

function countCorrect(logits: ArrayLike<number>, answers: Int32Array, V: number): number {
  let n = 0;
  for (let b = 0; b < answers.length; b++) if (argmaxRow(logits, b * V, V) === answers[b]) n++;
  return n;
}

function argmaxRow(v: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[offset + j] > v[offset + best]) best = j;
  return best;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
