// Training data as token ids: a train/validation split and random (x, y) windows from a seeded Rng,
// whose state is the data position a checkpoint saves.
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { Rng } from "../util/random.js";

/** The first (1 - valFraction) of the tokens for training, the rest for validation (nanoGPT). */
export function splitTokens(tokens: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  check(valFraction >= 0 && valFraction < 1, "splitTokens", `valFraction must be in [0, 1), got ${valFraction}`);
  const n = Math.floor(tokens.length * (1 - valFraction));
  return { train: tokens.subarray(0, n), val: tokens.subarray(n) };
}

/** Draws batches of B windows of T + 1 consecutive tokens: x is the first T, y the next-token targets. */
export class BatchSampler {
  readonly rng: Rng;

  constructor(readonly tokens: Int32Array, readonly batchSize: number, readonly contextLength: number, seed: number) {
    check(Number.isInteger(batchSize) && batchSize > 0 && Number.isInteger(contextLength) && contextLength > 0, "BatchSampler", `expected positive integer batch size and context, got ${batchSize}, ${contextLength}`);
    check(tokens.length > contextLength, "BatchSampler", `need more than contextLength=${contextLength} tokens, got ${tokens.length}`);
    this.rng = new Rng(seed);
  }

  /** x, y int32 (B, T). */
  next(): { x: Tensor; y: Tensor } {
    const B = this.batchSize, T = this.contextLength;
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = this.rng.int(this.tokens.length - T);
      x.set(this.tokens.subarray(start, start + T), b * T);
      y.set(this.tokens.subarray(start + 1, start + T + 1), b * T);
    }
    return { x: Tensor.fromArray(x, [B, T], "int32"), y: Tensor.fromArray(y, [B, T], "int32") };
  }
}
