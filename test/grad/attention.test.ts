// Finite-difference gradient checks for scaledDotProductAttention (fused) and attentionReference.
import { test } from "node:test";
import { attentionReference, scaledDotProductAttention, type AttentionOptions } from "../../src/ops/attention.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { gradCheck } from "../helpers/gradcheck.js";
import { boolMask, rnd } from "../helpers/inputs.js";

interface Case {
  name: string;
  /** B, H, G, T, S, D, Dv */
  dims: [number, number, number, number, number, number, number];
  opts?: AttentionOptions;
  /** A float bias of this shape, checked as an input. */
  bias?: number[];
}

// one query row (batch 0, row 1) with no allowed key, the others random
function maskWithEmptyRow(B: number, T: number, S: number): Tensor {
  const m = boolMask([B, 1, T, S], 9, 0.6).values.slice();
  for (let t = 0; t < T; t++) m[t * S] = 1; // every other row keeps key 0
  for (let s = 0; s < S; s++) m[S + s] = 0; // batch 0, row 1: none
  return tensor(Array.from(m), [B, 1, T, S], { dtype: "bool" });
}

const CASES: Case[] = [
  { name: "basic, Dv != D", dims: [2, 3, 3, 5, 7, 3, 5] },
  { name: "T=1, S=1, D=1", dims: [1, 1, 1, 1, 1, 1, 1] },
  { name: "bool mask (B,1,T,S) with an empty row", dims: [2, 2, 2, 5, 7, 3, 3], opts: { mask: maskWithEmptyRow(2, 5, 7) } },
  { name: "bool mask broadcast (T, S)", dims: [1, 3, 3, 5, 5, 2, 3], opts: { mask: boolMask([5, 5], 3, 0.8) } },
  { name: "bias (1,H,T,S) with gradient", dims: [2, 3, 3, 5, 7, 3, 3], bias: [1, 3, 5, 7] },
  { name: "bias (T,S) broadcast, with mask", dims: [1, 2, 2, 3, 5, 3, 3], bias: [3, 5], opts: { mask: boolMask([1, 2, 3, 5], 4, 0.7) } },
  { name: "causal square", dims: [1, 2, 2, 7, 7, 3, 3], opts: { isCausal: true } },
  { name: "causal T<S (offset S-T=4)", dims: [2, 2, 2, 3, 7, 3, 5], opts: { isCausal: true } },
  { name: "causal T>S (first rows see nothing)", dims: [1, 2, 2, 5, 3, 3, 3], opts: { isCausal: true } },
  { name: "GQA H=6 G=2, causal", dims: [2, 6, 2, 5, 5, 3, 3], opts: { isCausal: true } },
  { name: "GQA H=6 G=3 with a mask", dims: [1, 6, 3, 3, 5, 2, 3], opts: { mask: boolMask([1, 6, 3, 5], 5) } },
  { name: "MQA G=1, custom scale 0.37", dims: [2, 3, 1, 5, 7, 3, 3], opts: { scale: 0.37 } },
  { name: "causal + mask + bias + GQA", dims: [1, 4, 2, 5, 7, 3, 3], bias: [1, 4, 5, 7], opts: { isCausal: true, mask: boolMask([1, 1, 5, 7], 6, 0.7) } },
  { name: "alibi with a bias, H=3 (not a power of two), T<S", dims: [1, 3, 3, 3, 5, 3, 3], bias: [1, 3, 3, 5], opts: { alibi: true } },
  { name: "sliding window 2, GQA, T<S", dims: [2, 4, 2, 5, 7, 3, 3], opts: { slidingWindow: 2 } },
];

for (const impl of ["fused", "reference"] as const) {
  const attn = impl === "fused" ? scaledDotProductAttention : (q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions) => attentionReference(q, k, v, o) as Tensor;
  for (const c of CASES) {
    test(`grad attention (${impl}) ${c.name}`, () => {
      const [B, H, G, T, S, D, Dv] = c.dims;
      const inputs = [rnd([B, H, T, D], 1), rnd([B, G, S, D], 2), rnd([B, G, S, Dv], 3)];
      if (c.bias) inputs.push(rnd(c.bias, 4));
      gradCheck(`${impl} ${c.name}`, (q, k, v, bias) => attn(q, k, v, { ...c.opts, bias }), inputs);
    });
  }
}

test("grad attention with dropout on the weights (fixed seed: the same mask on every call), fused and reference", () => {
  const inputs = [rnd([1, 2, 5, 3], 1), rnd([1, 2, 7, 3], 2), rnd([1, 2, 7, 3], 3)];
  gradCheck("fused dropout 0.25", (q, k, v) => scaledDotProductAttention(q, k, v, { dropout: 0.25, rng: new Rng(5), isCausal: true }), inputs);
  gradCheck("reference dropout 0.25", (q, k, v) => attentionReference(q, k, v, { dropout: 0.25, rng: new Rng(5) }) as Tensor, inputs);
});
