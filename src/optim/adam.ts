// Adam (Kingma and Ba) and AdamW (Loshchilov and Hutter), following torch.optim.Adam / AdamW.
import { adamUpdate, assign } from "../ops/update.js";
import { zeros } from "../tensor/create.js";
import { keep } from "../ops/memory.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { shapesEqual } from "../util/shape.js";
import { Optimizer, type OptimizerState, type Params } from "./optimizer.js";

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
  readonly #name: string;
  readonly #state = new Map<Tensor, Moments>();

  constructor(params: Params, opts: AdamOptions = {}, variant: "adam" | "adamw" = "adam") {
    const decoupled = variant === "adamw";
    const name = decoupled ? "AdamW" : "Adam";
    // AdamW's default weight decay is 0.01, Adam's 0, as in PyTorch
    super(name, params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? (decoupled ? 0.01 : 0) });
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.#decoupled = decoupled;
    this.#name = name;
    check(this.betas.every((b) => b >= 0 && b < 1), name, `betas must be in [0, 1), got [${this.betas.join(", ")}]`);
  }

  step(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        let s = this.#state.get(p);
        if (s === undefined) {
          s = { m: zeros(p.shape, { dtype: p.dtype }), v: zeros(p.shape, { dtype: p.dtype }), step: 0 };
          keep(s.m, s.v); // optimizer state outlives any tidy() around the step
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

  /** `<i>.m`, `<i>.v` (moments, sharing storage) and `<i>.step` (int32 scalar) for each parameter that has stepped. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.flatParams().forEach((p, i) => {
      const s = this.#state.get(p);
      if (s === undefined) return;
      out.set(`${i}.m`, s.m.detach());
      out.set(`${i}.v`, s.v.detach());
      out.set(`${i}.step`, Tensor.fromArray(Int32Array.of(s.step), [], "int32"));
    });
    return out;
  }

  loadStateDict(state: Map<string, Tensor>): void {
    const fn = `${this.#name}.loadStateDict`;
    const params = this.flatParams();
    const next = new Map<Tensor, Moments>();
    for (const [i, entry] of this.readStateDict(state, ["m", "v", "step"])) {
      const p = params[i];
      const m = entry.get("m"), v = entry.get("v"), step = entry.get("step");
      check(m !== undefined && v !== undefined && step !== undefined, fn, `parameter ${i} needs ${i}.m, ${i}.v and ${i}.step together`);
      for (const [k, t] of [["m", m], ["v", v]] as const) {
        check(shapesEqual(t.shape, p.shape), fn, () => `${i}.${k} must have the parameter's shape ${fmtShape(p.shape)}, got ${fmtShape(t.shape)}`);
        check(t.dtype === "float32" || t.dtype === "float64", fn, `${i}.${k} must be a float tensor, got ${t.dtype}`);
      }
      const n = step.size === 1 ? step.values[0] : NaN;
      check(Number.isSafeInteger(n) && n >= 0, fn, `${i}.step must hold one non-negative integer, got ${step.toFlatArray().slice(0, 4).join(", ")}`);
      // copies in the parameter's dtype, so later steps never write into the caller's tensors
      const copy = (t: Tensor): Tensor => {
        const c = zeros(p.shape, { dtype: p.dtype });
        assign(c, t);
        return c;
      };
      next.set(p, { m: copy(m), v: copy(v), step: n });
    }
    this.#state.clear();
    for (const [p, s] of next) this.#state.set(p, s);
  }

  protected hyper(): OptimizerState["hyper"] {
    return { betas: [...this.betas], eps: this.eps };
  }
}

/** Adam with decoupled weight decay: w <- w - lr * wd * w before the Adam step. */
export class AdamW extends Adam {
  constructor(params: Params, opts: AdamOptions = {}) {
    super(params, opts, "adamw");
  }
}
