// Embedding: a (V, C) table of learned vectors looked up by int32 id.
import { embedding } from "../ops/gather.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { normalParam } from "./init.js";
import { Module } from "./module.js";

export class Embedding extends Module {
  readonly weight: Tensor; // (V, C)

  constructor(readonly numEmbeddings: number, readonly dim: number, opts: { std?: number; rng?: Rng } = {}) {
    super();
    check(Number.isInteger(numEmbeddings) && numEmbeddings > 0 && Number.isInteger(dim) && dim > 0, "Embedding", `expected positive integer sizes, got (${numEmbeddings}, ${dim})`);
    this.weight = normalParam([numEmbeddings, dim], opts.std ?? 1, opts.rng); // N(0, 1) as PyTorch
  }

  /** int32 ids (...) -> (..., C) */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}
