// Parameter initialisation from a seeded generator. `manualSeed` resets the default one, as torch.manual_seed.
import { randn, rand, zeros } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { Rng } from "../util/random.js";
import type { Shape } from "../util/shape.js";

let defaultRng = new Rng(0);

/** Reseeds the generator that modules use when no `rng` option is given. */
export function manualSeed(seed: number): void {
  defaultRng = new Rng(seed);
}

export function initRng(rng?: Rng): Rng {
  return rng ?? defaultRng;
}

let skipping = false;

/**
 * Builds modules with zero parameters instead of random ones, for loaders that overwrite every
 * parameter (GPT-2 124M would otherwise draw 124M random numbers only to discard them).
 */
export function withoutInit<T>(build: () => T): T {
  const prev = skipping;
  skipping = true;
  try {
    return build();
  } finally {
    skipping = prev;
  }
}

/** True inside withoutInit. */
export function isInitSkipped(): boolean {
  return skipping;
}

/** A trainable tensor drawn from U(-bound, bound) (PyTorch's Linear default: bound = 1/sqrt(in)). */
export function uniformParam(shape: Shape, bound: number, rng?: Rng): Tensor {
  if (skipping) return zeros(shape, { requiresGrad: true });
  return rand(shape, initRng(rng), { low: -bound, high: bound, requiresGrad: true });
}

/** A trainable tensor drawn from N(0, std^2). */
export function normalParam(shape: Shape, std: number, rng?: Rng): Tensor {
  if (skipping) return zeros(shape, { requiresGrad: true });
  return randn(shape, initRng(rng), { std, requiresGrad: true });
}
