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

/** The JSON-able part of an optimizer's state (tensors go through stateDict()). */
export interface OptimizerState {
  /** The class that wrote it: "SGD", "Adam" or "AdamW". */
  kind: string;
  /** Per group: learning rate, weight decay and how many parameters it holds. */
  groups: { lr: number; weightDecay: number; size: number }[];
  /** The remaining hyper-parameters (betas, eps, momentum, ...), for the record. */
  hyper: Record<string, number | boolean | number[]>;
}

export abstract class Optimizer {
  readonly groups: ResolvedGroup[];
  readonly #name: string;

  constructor(name: string, params: Params, defaults: { lr: number; weightDecay: number }) {
    check(Array.isArray(params) && params.length > 0, name, "expected a non-empty list of parameters");
    check(Number.isFinite(defaults.lr) && defaults.lr >= 0, name, `lr must be a non-negative number, got ${defaults.lr}`);
    check(Number.isFinite(defaults.weightDecay) && defaults.weightDecay >= 0, name, `weightDecay must be a non-negative number, got ${defaults.weightDecay}`);
    this.#name = name;
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

  /** Every parameter, groups in order; buffer names in stateDict() use this index (`3.m`). */
  protected flatParams(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Per-parameter buffers named `<index>.<field>`; the tensors share storage with the optimizer's. */
  abstract stateDict(): Map<string, Tensor>;

  /** Replaces all per-parameter buffers with copies of `state`'s (as written by stateDict()). */
  abstract loadStateDict(state: Map<string, Tensor>): void;

  /** Hyper-parameters beyond lr and weight decay, for getState(). */
  protected abstract hyper(): OptimizerState["hyper"];

  /** The JSON-able state: the kind, the groups' lr and weight decay, the other hyper-parameters. */
  getState(): OptimizerState {
    return {
      kind: this.#name,
      groups: this.groups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay, size: g.params.length })),
      hyper: this.hyper(),
    };
  }

  /** Restores the groups' lr and weight decay from getState(); the kind and group sizes must match. */
  setState(state: OptimizerState): void {
    const fn = `${this.#name}.setState`;
    check(typeof state === "object" && state !== null && Array.isArray(state.groups), fn, "expected the object that getState() returns");
    check(state.kind === this.#name, fn, `state was written by ${String(state.kind)}, not ${this.#name}`);
    const sizes = this.groups.map((g) => g.params.length);
    check(state.groups.length === sizes.length && state.groups.every((g, i) => g.size === sizes[i]), fn, () => `state has groups of sizes [${state.groups.map((g) => g.size).join(", ")}], this optimizer [${sizes.join(", ")}]`);
    for (const g of state.groups) {
      check(Number.isFinite(g.lr) && g.lr >= 0 && Number.isFinite(g.weightDecay) && g.weightDecay >= 0, fn, `group lr and weightDecay must be non-negative numbers, got ${g.lr}, ${g.weightDecay}`);
    }
    state.groups.forEach((g, i) => {
      this.groups[i].lr = g.lr;
      this.groups[i].weightDecay = g.weightDecay;
    });
  }

  /** Groups `state` by parameter index and checks names, fields and shapes; `fields` lists what one index may hold. */
  protected readStateDict(state: Map<string, Tensor>, fields: readonly string[]): Map<number, Map<string, Tensor>> {
    const fn = `${this.#name}.loadStateDict`;
    check(state instanceof Map, fn, "expected a Map<string, Tensor> as stateDict() returns");
    const params = this.flatParams();
    const out = new Map<number, Map<string, Tensor>>();
    for (const [key, t] of state) {
      const m = /^(0|[1-9]\d*)\.([A-Za-z]+)$/.exec(key);
      check(m !== null && fields.includes(m[2]), fn, `unexpected entry ${JSON.stringify(key)}; expected <index>.<${fields.join("|")}>`);
      const index = Number(m[1]);
      check(index < params.length, fn, `entry ${key} names parameter ${index}, but there are ${params.length}`);
      check(t instanceof Tensor, fn, `entry ${key} is not a Tensor`);
      if (!out.has(index)) out.set(index, new Map());
      out.get(index)!.set(m[2], t);
    }
    return out;
  }
}
