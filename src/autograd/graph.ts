// The tape: each op's output remembers its inputs and a backward closure (micrograd's model, typed).
// backward() walks the graph in reverse topological order, summing gradients per tensor.
import type { Tensor } from "../tensor/tensor.js";
import { isGradEnabled, noGrad } from "./no-grad.js";

/** Maps the gradient of an op's output to the gradients of its inputs (null: no gradient). */
export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

export interface GraphNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: BackwardFn;
}

/** Attaches a backward rule to `out` when recording is on and some input needs a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS: deep graphs (long training unrolls) must not overflow the call stack
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (!seen.has(next) && next.requiresGrad) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Reverse-mode differentiation from `root` with upstream gradient `grad`. Leaf tensors with
 * requiresGrad accumulate into `.grad` until zeroed.
 */
export function runBackward(root: Tensor, grad: Tensor, add: (a: Tensor, b: Tensor) => Tensor): void {
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (const t of topoOrder(root)) {
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      if (t.node === null) {
        t.accumulateGrad(g);
        continue;
      }
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!input.requiresGrad || gi === null || gi === undefined) return;
        const prev = grads.get(input);
        grads.set(input, prev === undefined ? gi : add(prev, gi));
      });
    }
  });
}
