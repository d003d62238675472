// A GPT on a fixed token sequence, as the visualizer and qkv inspect see it.
import type { GPT } from "../index.js";
import { slice, sum, Tensor } from "../index.js";
import type { Explainable } from "../explain/session.js";

/** `show` turns one token id into its text. */
export function gptExplainable(model: GPT, ids: readonly number[], show: (id: number) => string, title: string): Explainable {
  const x = Tensor.fromArray(Int32Array.from(ids), [1, ids.length], "int32");
  return {
    title,
    tokens: ids.map((id) => visible(show(id))),
    ids,
    run: () => {
      const wasTraining = model.training;
      model.eval();
      try {
        return { logits: model.forward(x) };
      } finally {
        model.train(wasTraining);
      }
    },
    gradTarget: {
      label: "the logit of the predicted next token",
      of: (out) => {
        const T = ids.length;
        const last = slice(out.logits as Tensor, 1, T - 1, T); // (1, 1, V)
        return sum(slice(last, 2, argmax(last.values), argmax(last.values) + 1));
      },
    },
    notes: (out) => {
      const l = out.logits?.values ?? [];
      const V = model.config.vocabSize, base = (ids.length - 1) * V;
      let best = 0;
      for (let i = 1; i < V; i++) if (l[base + i] > l[base + best]) best = i;
      return [`next token after the input: ${JSON.stringify(show(best))}`];
    },
  };
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Whitespace tokens made visible as labels (a space would be an empty row). */
function visible(s: string): string {
  return s.replace(/ /g, "␣").replace(/\n/g, "⏎").replace(/\t/g, "⇥");
}
