// Stochastic gradient descent, following torch.optim.SGD. Plain SGD is the seed's W <- W - lr * grad.
// Written in ops, so it runs wherever the parameters live (host or GPU); buffers keep the parameter dtype.
import { noGrad } from "../autograd/no-grad.js";
import { add, mul, sub } from "../ops/elementwise.js";
import { assign } from "../ops/update.js";
import { zeros } from "../tensor/create.js";
import { keep } from "../ops/memory.js";
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
  readonly #buffers = new Map<Tensor, Tensor>();

  constructor(params: Params, opts: SGDOptions) {
    super("SGD", params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.#opts = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...opts };
    check(this.#opts.momentum >= 0, "SGD", `momentum must be >= 0, got ${this.#opts.momentum}`);
  }

  step(): void {
    const { momentum, dampening, nesterov } = this.#opts;
    noGrad(() => {
      for (const group of this.groups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          let d = group.weightDecay !== 0 ? add(p.grad, mul(p, group.weightDecay)) : p.grad;
          if (momentum !== 0) {
            // buf = momentum * buf + (1 - dampening) * d; the first step takes d as it is
            const prev = this.#buffers.get(p);
            const buf = prev === undefined ? zeros(p.shape, { dtype: p.dtype }) : prev;
            assign(buf, prev === undefined ? d : add(mul(buf, momentum), dampening !== 0 ? mul(d, 1 - dampening) : d));
            if (prev === undefined) {
              keep(buf); // state outlives any tidy() around the step
              this.#buffers.set(p, buf);
            }
            d = nesterov ? add(d, mul(buf, momentum)) : buf;
          }
          assign(p, sub(p, mul(d, group.lr)));
        }
      }
    });
  }

  /** `<i>.momentum` (the parameter's dtype, sharing storage) for each parameter that has a momentum buffer. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.flatParams().forEach((p, i) => {
      const buf = this.#buffers.get(p);
      if (buf !== undefined) out.set(`${i}.momentum`, buf.detach());
    });
    return out;
  }

  loadStateDict(state: Map<string, Tensor>): void {
    const params = this.flatParams();
    const next = new Map<Tensor, Tensor>();
    for (const [i, entry] of this.readStateDict(state, ["momentum"])) {
      const p = params[i], t = entry.get("momentum") as Tensor;
      check(shapesEqual(t.shape, p.shape), "SGD.loadStateDict", () => `${i}.momentum must have the parameter's shape ${fmtShape(p.shape)}, got ${fmtShape(t.shape)}`);
      check(t.dtype === "float32" || t.dtype === "float64", "SGD.loadStateDict", `${i}.momentum must be a float tensor, got ${t.dtype}`);
      const buf = zeros(p.shape, { dtype: p.dtype });
      assign(buf, t);
      next.set(p, buf);
    }
    this.#buffers.clear();
    for (const [p, b] of next) this.#buffers.set(p, b);
  }

  protected hyper(): OptimizerState["hyper"] {
    const { momentum, dampening, nesterov } = this.#opts;
    return { momentum, dampening, nesterov };
  }
}
