// scaledDotProductAttention against the PyTorch 1.13 fixtures (float64 references, float32 here).
import { before, test } from "node:test";
import { attentionReference, scaledDotProductAttention, type AttentionResult } from "../../src/ops/attention.js";
import { assertCloseAsync } from "../helpers/assert-close.js";
import { useEnvBackend } from "../helpers/backend.js";
import { fromJson, loadFixture, type Json } from "../helpers/fixtures.js";
import { TOL } from "../helpers/tolerance.js";

interface Case {
  name: string;
  q: Json; k: Json; v: Json; dout: Json;
  causal: boolean;
  scale: number | null;
  mask: Json | null;
  bias: Json | null;
  out: Json; weights: Json; dq: Json; dk: Json; dv: Json;
}

before(useEnvBackend);
const { cases } = loadFixture<{ cases: Case[] }>("attention.json");

for (const impl of ["fused", "reference"] as const) {
  for (const c of cases) {
    test(`attention fixture ${c.name} (${impl}): output, weights, dq, dk, dv match PyTorch`, async () => {
      const q = fromJson(c.q, { requiresGrad: true }), k = fromJson(c.k, { requiresGrad: true }), v = fromJson(c.v, { requiresGrad: true });
      const opts = {
        isCausal: c.causal,
        scale: c.scale ?? undefined,
        mask: c.mask ? fromJson(c.mask) : null,
        bias: c.bias ? fromJson(c.bias) : null,
        returnWeights: true as const,
      };
      const res = (impl === "fused" ? scaledDotProductAttention(q, k, v, opts) : attentionReference(q, k, v, opts)) as AttentionResult;
      await assertCloseAsync(res.output, fromJson(c.out), TOL.fixture, "out");
      await assertCloseAsync(res.weights, fromJson(c.weights), TOL.fixture, "weights");
      res.output.backward(fromJson(c.dout));
      await assertCloseAsync(q.grad!, fromJson(c.dq), TOL.fixture, "dq");
      await assertCloseAsync(k.grad!, fromJson(c.dk), TOL.fixture, "dk");
      await assertCloseAsync(v.grad!, fromJson(c.dv), TOL.fixture, "dv");
    });
  }
}
