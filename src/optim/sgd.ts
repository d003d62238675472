// Stochastic gradient descent, following torch.optim.SGD. Plain SGD is the seed's W <- W - lr * grad.
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { shapesEqual } from "../util/shape.js";
import { Optimizer, type OptimizerState, type Params } from "./optimizer.js";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient. */
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly #opts: Required<SGDOptions>;
  readonly #buffers = new Map<Tensor, Float64Array>();

  constructor(params: Params, opts: SGDOptions) {
    super("SGD", params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.#opts = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...opts };
    check(this.#opts.momentum >= 0, "SGD", `momentum must be >= 0, got ${this.#opts.momentum}`);
  }

  step(): void {
    const { momentum, dampening, nesterov } = this.#opts;
    for (const group of this.groups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        const w = p.values, g = p.grad.values;
        let buf = this.#buffers.get(p);
        const first = buf === undefined;
        if (momentum !== 0 && buf === undefined) {
          buf = new Float64Array(w.length);
          this.#buffers.set(p, buf);
        }
        for (let i = 0; i < w.length; i++) {
          let d = g[i] + group.weightDecay * w[i];
          if (buf !== undefined) {
            // buf = momentum * buf + (1 - dampening) * d; the first step takes d as it is
            buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
            d = nesterov ? d + momentum * buf[i] : buf[i];
          }
          w[i] -= group.lr * d;
        }
      }
    }
  }

  /** `<i>.momentum` (float64, sharing storage) for each parameter that has a momentum buffer. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.flatParams().forEach((p, i) => {
      const buf = this.#buffers.get(p);
      if (buf !== undefined) out.set(`${i}.momentum`, Tensor.fromArray(buf, p.shape, "float64"));
    });
    return out;
  }

  loadStateDict(state: Map<string, Tensor>): void {
    const params = this.flatParams();
    const next = new Map<Tensor, Float64Array>();
    for (const [i, entry] of this.readStateDict(state, ["momentum"])) {
      const p = params[i], t = entry.get("momentum") as Tensor;
      check(shapesEqual(t.shape, p.shape), "SGD.loadStateDict", () => `${i}.momentum must have the parameter's shape ${fmtShape(p.shape)}, got ${fmtShape(t.shape)}`);
      check(t.dtype === "float32" || t.dtype === "float64", "SGD.loadStateDict", `${i}.momentum must be a float tensor, got ${t.dtype}`);
      next.set(p, Float64Array.from(t.values));
    }
    this.#buffers.clear();
    for (const [p, b] of next) this.#buffers.set(p, b);
  }

  protected hyper(): OptimizerState["hyper"] {
    const { momentum, dampening, nesterov } = this.#opts;
    return { momentum, dampening, nesterov };
  }
}
