// Module: finds its parameters by walking its own fields (tensors that require grad, sub-modules,
// arrays of sub-modules), so no module keeps a hand-written parameter table.
import { assign } from "../ops/update.js";
import { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { shapesEqual } from "../util/shape.js";

export abstract class Module {
  training = true;

  /** [name, tensor] for every parameter, named by attribute path (`wQ.weight`, `blocks.0.ln1.bias`). */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (value instanceof Tensor) {
        if (value.requiresGrad) out.push([name, value]);
      } else if (value instanceof Module) {
        out.push(...value.namedParameters(name + "."));
      } else if (Array.isArray(value)) {
        value.forEach((m, i) => {
          if (m instanceof Module) out.push(...m.namedParameters(`${name}.${i}.`));
        });
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Sub-modules, this one included, depth first. */
  modules(): Module[] {
    const out: Module[] = [this];
    for (const value of Object.values(this)) {
      if (value instanceof Module) out.push(...value.modules());
      else if (Array.isArray(value)) for (const m of value) if (m instanceof Module) out.push(...m.modules());
    }
    return out;
  }

  /** Parameters by name; the tensors share storage with the module's, detached from any graph. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters().map(([name, t]) => [name, t.detach()]));
  }

  /** Copies values into the parameters; refuses missing, unexpected or mis-shaped entries. */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>): void {
    const fn = `${this.constructor.name}.loadStateDict`;
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const params = new Map(this.namedParameters());
    const missing = [...params.keys()].filter((k) => !entries.has(k));
    const extra = [...entries.keys()].filter((k) => !params.has(k));
    check(missing.length === 0 && extra.length === 0, fn, () => `state does not match the module: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    for (const [name, p] of params) {
      const t = entries.get(name) as Tensor;
      check(t instanceof Tensor, fn, `entry ${name} is not a Tensor`);
      check(shapesEqual(t.shape, p.shape), fn, () => `${name} must have shape ${fmtShape(p.shape)}, got ${fmtShape(t.shape)}`);
    }
    for (const [name, p] of params) assign(p, entries.get(name) as Tensor);
  }

  /** Sets training mode (dropout on) for this module and all sub-modules. */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }
}
