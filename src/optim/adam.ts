// Adam (Kingma and Ba) and AdamW (Loshchilov and Hutter), following torch.optim.Adam / AdamW.
import { adamUpdate } from "../ops/update.js";
import { zeros } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { Optimizer, type Params } from "./optimizer.js";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

interface Moments {
  m: Tensor;
  v: Tensor;
  step: number;
}

export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly #decoupled: boolean;
  readonly #state = new Map<Tensor, Moments>();

  constructor(params: Params, opts: AdamOptions = {}, variant: "adam" | "adamw" = "adam") {
    const decoupled = variant === "adamw";
    const name = decoupled ? "AdamW" : "Adam";
    // AdamW's default weight decay is 0.01, Adam's 0, as in PyTorch
    super(name, params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? (decoupled ? 0.01 : 0) });
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.#decoupled = decoupled;
    check(this.betas.every((b) => b >= 0 && b < 1), name, `betas must be in [0, 1), got [${this.betas.join(", ")}]`);
  }

  step(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        let s = this.#state.get(p);
        if (s === undefined) {
          s = { m: zeros(p.shape, { dtype: p.dtype }), v: zeros(p.shape, { dtype: p.dtype }), step: 0 };
          this.#state.set(p, s);
        }
        s.step++;
        adamUpdate(p, p.grad, s.m, s.v, {
          lr: group.lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps,
          weightDecay: group.weightDecay, step: s.step, decoupled: this.#decoupled,
        });
      }
    }
  }
}

/** Adam with decoupled weight decay: w <- w - lr * wd * w before the Adam step. */
export class AdamW extends Adam {
  constructor(params: Params, opts: AdamOptions = {}) {
    super(params, opts, "adamw");
  }
}
