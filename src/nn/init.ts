// Parameter initialisation from a seeded generator. `manualSeed` resets the default one, as torch.manual_seed.
import { randn, rand } from "../tensor/create.js";
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

/** A trainable tensor drawn from U(-bound, bound) (PyTorch's Linear default: bound = 1/sqrt(in)). */
export function uniformParam(shape: Shape, bound: number, rng?: Rng): Tensor {
  return rand(shape, initRng(rng), { low: -bound, high: bound, requiresGrad: true });
}

/** A trainable tensor drawn from N(0, std^2). */
export function normalParam(shape: Shape, std: number, rng?: Rng): Tensor {
  return randn(shape, initRng(rng), { std, requiresGrad: true });
}
