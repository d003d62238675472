// A hand-set party: one cross-attention head where the question "about X" matches guest X's name
// badge by construction (one-hot names, W^Q = W^K = 4 I), so the right guest is known in advance.
import type { Explainable } from "../../src/explain/session.js";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

export const GUESTS = ["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid"];

export function partyToy(asker: number, target: number): Explainable {
  const N = GUESTS.length, C = 8;
  const attn = new MultiHeadAttention({ modelDim: C, numHeads: 1, rng: new Rng(1) });
  for (const lin of [attn.wQ, attn.wK]) {
    lin.weight.values.fill(0);
    lin.bias?.values.fill(0);
    for (let i = 0; i < C; i++) lin.weight.values[i * C + i] = 4;
  }
  const guests = new Float32Array(N * C);
  for (let n = 0; n < N; n++) { guests[n * C + n] = 1; guests[n * C + 6 + (n % 2)] = 0.5; } // name one-hot + a story bit
  const question = new Float32Array(C);
  question[target] = 1;
  return {
    title: `party: ${GUESTS[asker]} asks about ${GUESTS[target]}`,
    tokens: GUESTS,
    queryTokens: [`${GUESTS[asker]} asks: what is ${GUESTS[target]}'s story?`],
    focus: 0,
    run: () => ({ logits: attn.forward(Tensor.fromArray(question, [1, 1, C], "float32"), { context: Tensor.fromArray(guests, [1, N, C], "float32") }) }),
  };
}
