// LayerNorm over the last axis with a learned scale (ones) and shift (zeros).
import { layerNorm } from "../ops/layer-norm.js";
import { ones, zeros } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { Module } from "./module.js";

export class LayerNorm extends Module {
  readonly weight: Tensor; // (C)
  readonly bias: Tensor | null; // (C)

  constructor(readonly dim: number, readonly opts: { eps?: number; bias?: boolean } = {}) {
    super();
    this.weight = ones([dim], { requiresGrad: true });
    this.bias = opts.bias === false ? null : zeros([dim], { requiresGrad: true });
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}
