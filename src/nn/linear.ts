// Linear: y = x W + b with W stored (in, out), as in the seed formula Q = X W^Q.
import { linear } from "../ops/linear.js";
import type { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { uniformParam } from "./init.js";
import { Module } from "./module.js";

export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  rng?: Rng;
}

export class Linear extends Module {
  readonly weight: Tensor; // (in, out)
  readonly bias: Tensor | null; // (out)

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    check(Number.isInteger(inFeatures) && inFeatures > 0 && Number.isInteger(outFeatures) && outFeatures > 0, "Linear", `expected positive integer sizes, got (${inFeatures}, ${outFeatures})`);
    // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParam([inFeatures, outFeatures], bound, opts.rng);
    this.bias = opts.bias === false ? null : uniformParam([outFeatures], bound, opts.rng);
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    check(x.shape[x.ndim - 1] === this.inFeatures, "Linear.forward", () => `expected input (..., ${this.inFeatures}), got ${fmtShape(x.shape)}`);
    return linear(x, this.weight, this.bias);
  }
}
