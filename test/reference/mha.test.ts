// MultiHeadAttention against the PyTorch fixtures, with the fixture weights loaded through loadStateDict.
import { before, test } from "node:test";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertCloseAsync } from "../helpers/assert-close.js";
import { useEnvBackend } from "../helpers/backend.js";
import { fromJson, loadFixture, type Json } from "../helpers/fixtures.js";
import { TOL } from "../helpers/tolerance.js";

type P = "W_Q" | "b_Q" | "W_K" | "b_K" | "W_V" | "b_V" | "W_O" | "b_O";
interface Case {
  name: string;
  num_heads: number;
  causal: boolean;
  x: Json; kv: Json | null; dy: Json;
  params: Record<P, Json>;
  y: Json; weights: Json; dx: Json; dkv: Json | null;
  grads: Record<P, Json>;
}

// fixture name -> our stateDict key
const KEYS: Record<P, string> = {
  W_Q: "wQ.weight", b_Q: "wQ.bias", W_K: "wK.weight", b_K: "wK.bias",
  W_V: "wV.weight", b_V: "wV.bias", W_O: "wO.weight", b_O: "wO.bias",
};

before(useEnvBackend);
const { cases } = loadFixture<{ cases: Case[] }>("mha.json");

for (const c of cases) {
  test(`MultiHeadAttention fixture ${c.name}: y, weights, dx, dkv and every parameter gradient match PyTorch`, async () => {
    const modelDim = c.x.shape[2];
    const mha = new MultiHeadAttention({ modelDim, numHeads: c.num_heads, isCausal: c.causal });
    const state = new Map<string, Tensor>();
    for (const [name, key] of Object.entries(KEYS)) state.set(key, fromJson(c.params[name as P]));
    mha.loadStateDict(state);
    const x = fromJson(c.x, { requiresGrad: true });
    const kv = c.kv ? fromJson(c.kv, { requiresGrad: true }) : undefined;
    const { output, weights } = mha.forward(x, { context: kv, returnWeights: true });
    await assertCloseAsync(output, fromJson(c.y), TOL.fixture, "y");
    await assertCloseAsync(weights, fromJson(c.weights), TOL.fixture, "weights");
    output.backward(fromJson(c.dy));
    await assertCloseAsync(x.grad!, fromJson(c.dx), TOL.fixture, "dx");
    if (kv && c.dkv) await assertCloseAsync(kv.grad!, fromJson(c.dkv), TOL.fixture, "dkv");
    const params = new Map(mha.namedParameters());
    for (const [name, key] of Object.entries(KEYS)) {
      await assertCloseAsync(params.get(key)!.grad!, fromJson(c.grads[name as P]), TOL.fixture, `grad ${name}`);
    }
  });
}
