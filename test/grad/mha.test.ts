// Finite-difference gradient checks for MultiHeadAttention.forward with respect to its inputs and every parameter.
import { test } from "node:test";
import { MultiHeadAttention, type AttentionForwardOptions, type MultiHeadAttentionOptions } from "../../src/nn/attention.js";
import type { Module } from "../../src/nn/module.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { boolMask, rnd } from "../helpers/inputs.js";

/** Puts `t` in the module field named by a stateDict key (`wQ.weight`), so the check can vary parameters. */
function setParam(m: Module, name: string, t: Tensor): void {
  const path = name.split(".");
  let obj: Record<string, unknown> = m as unknown as Record<string, unknown>;
  for (const p of path.slice(0, -1)) obj = obj[p] as Record<string, unknown>;
  obj[path[path.length - 1]] = t;
}

function check(name: string, opts: Omit<MultiHeadAttentionOptions, "rng">, T: number, S: number | null, fwd: Omit<AttentionForwardOptions, "context"> = {}): void {
  const mha = new MultiHeadAttention({ ...opts, rng: new Rng(11) });
  const params = mha.namedParameters();
  const C = opts.modelDim;
  const inputs = [rnd([2, T, C], 1), ...(S === null ? [] : [rnd([2, S, C], 2)]), ...params.map(([, p]) => p.detach())];
  const nIn = S === null ? 1 : 2;
  gradCheck(name, (...xs) => {
    params.forEach(([key], i) => setParam(mha, key, xs[nIn + i]));
    return mha.forward(xs[0], { ...fwd, context: S === null ? undefined : xs[1] });
  }, inputs);
}

test("grad MultiHeadAttention self-attention (C=6, H=3, T=5): x and all 8 parameters", () => {
  check("mha self", { modelDim: 6, numHeads: 3 }, 5, null);
});

test("grad MultiHeadAttention causal self-attention without biases", () => {
  check("mha causal", { modelDim: 6, numHeads: 2, isCausal: true, bias: false }, 5, null);
});

test("grad MultiHeadAttention cross-attention (T=3, S=7): x, context and parameters", () => {
  check("mha cross", { modelDim: 6, numHeads: 3 }, 3, 7);
});

test("grad MultiHeadAttention GQA (H=6, G=2) with a mask", () => {
  check("mha gqa", { modelDim: 6, numHeads: 6, numKvHeads: 2 }, 5, null, { mask: boolMask([2, 1, 5, 5], 3, 0.7) });
});

test("grad MultiHeadAttention MQA (H=3, G=1), causal", () => {
  check("mha mqa", { modelDim: 9, numHeads: 3, numKvHeads: 1, isCausal: true }, 5, null);
});
