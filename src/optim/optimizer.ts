// Optimizer base: parameter groups (PyTorch's param_groups), zeroGrad(), step(), and the learning rate.
import { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";

/** Parameters that share hyper-parameters; unset fields take the optimizer's defaults. */
export interface ParamGroup {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
}

export type Params = Tensor[] | [string, Tensor][] | ParamGroup[];

export interface ResolvedGroup {
  params: Tensor[];
  lr: number;
  weightDecay: number;
}

export abstract class Optimizer {
  readonly groups: ResolvedGroup[];

  constructor(name: string, params: Params, defaults: { lr: number; weightDecay: number }) {
    check(Array.isArray(params) && params.length > 0, name, "expected a non-empty list of parameters");
    check(Number.isFinite(defaults.lr) && defaults.lr >= 0, name, `lr must be a non-negative number, got ${defaults.lr}`);
    check(Number.isFinite(defaults.weightDecay) && defaults.weightDecay >= 0, name, `weightDecay must be a non-negative number, got ${defaults.weightDecay}`);
    const raw: ParamGroup[] = params.every((p) => p instanceof Tensor)
      ? [{ params: params as Tensor[] }]
      : params.every((p) => Array.isArray(p))
        ? [{ params: (params as [string, Tensor][]).map(([, t]) => t) }]
        : (params as ParamGroup[]);
    this.groups = raw.map((g) => {
      check(Array.isArray(g.params) && g.params.every((p) => p instanceof Tensor && p.requiresGrad), name, "every parameter must be a Tensor with requiresGrad: true");
      return { params: g.params, lr: g.lr ?? defaults.lr, weightDecay: g.weightDecay ?? defaults.weightDecay };
    });
  }

  /** The learning rate of every group (set it to schedule). */
  get lr(): number {
    return this.groups[0].lr;
  }

  set lr(value: number) {
    for (const g of this.groups) g.lr = value;
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** Updates every parameter that has a gradient, in place. */
  abstract step(): void;
}
