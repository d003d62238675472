// Properties of attention: fused == reference (values and gradients), causality, GQA == explicit head repeat.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { attentionReference, scaledDotProductAttention, type AttentionOptions } from "../../src/ops/attention.js";
import { expand, reshape } from "../../src/ops/movement.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";
import { boolMask, rnd } from "../helpers/inputs.js";

const RUNS = { seed: 4242, numRuns: 40 };

const dimsArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  G: fc.integer({ min: 1, max: 3 }),
  groups: fc.integer({ min: 1, max: 3 }), // H = G * groups
  T: fc.integer({ min: 1, max: 6 }),
  S: fc.integer({ min: 1, max: 7 }),
  D: fc.integer({ min: 1, max: 5 }),
  Dv: fc.integer({ min: 1, max: 5 }),
  seed: fc.nat(1e6),
});

const optsArb = fc.record({
  isCausal: fc.boolean(),
  mask: fc.constantFrom("none", "full", "per-batch", "2d"),
  pTrue: fc.double({ min: 0, max: 1, noNaN: true }),
  bias: fc.constantFrom("none", "full", "per-head"),
  scale: fc.option(fc.double({ min: 0.05, max: 3, noNaN: true }), { nil: undefined }),
  alibi: fc.boolean(),
  slidingWindow: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
});

type Dims = { B: number; G: number; groups: number; T: number; S: number; D: number; Dv: number; seed: number };

function inputs(d: Dims): [Tensor, Tensor, Tensor] {
  const H = d.G * d.groups;
  return [rnd([d.B, H, d.T, d.D], d.seed, { requiresGrad: true }), rnd([d.B, d.G, d.S, d.D], d.seed + 1, { requiresGrad: true }), rnd([d.B, d.G, d.S, d.Dv], d.seed + 2, { requiresGrad: true })];
}

test("fused attention equals attentionReference (masks, bias, causal, scale, ALiBi, sliding window): output and gradients", () => {
  fc.assert(fc.property(dimsArb, optsArb, (d, o) => {
    const H = d.G * d.groups;
    const maskShape = { none: null, full: [d.B, H, d.T, d.S], "per-batch": [d.B, 1, d.T, d.S], "2d": [d.T, d.S] }[o.mask];
    const biasShape = { none: null, full: [d.B, H, d.T, d.S], "per-head": [1, H, 1, d.S] }[o.bias];
    const opts: AttentionOptions = { isCausal: o.isCausal, scale: o.scale, alibi: o.alibi, slidingWindow: o.slidingWindow, mask: maskShape && boolMask(maskShape, d.seed + 3, o.pTrue) };
    const results = (["fused", "reference"] as const).map((impl) => {
      const [q, k, v] = inputs(d);
      const bias = biasShape && rnd(biasShape, d.seed + 4, { requiresGrad: true });
      const out = (impl === "fused" ? scaledDotProductAttention(q, k, v, { ...opts, bias }) : attentionReference(q, k, v, { ...opts, bias })) as Tensor;
      out.backward(rnd(out.shape, d.seed + 5));
      return { out, grads: [q.grad!, k.grad!, v.grad!, ...(bias ? [bias.grad!] : [])] };
    });
    const tol = { rtol: 1e-4, atol: 1e-5 };
    assertClose(results[0].out, results[1].out, tol, "output");
    results[0].grads.forEach((g, i) => assertClose(g, results[1].grads[i], tol, `grad ${["q", "k", "v", "bias"][i]}`));
  }), RUNS);
});

test("causal attention: output row t does not change when keys or values after t + S - T change", () => {
  fc.assert(fc.property(dimsArb, fc.nat(100), fc.boolean(), (d, pick, useRef) => {
    const [q, k, v] = inputs(d);
    const attn = (kk: Tensor, vv: Tensor) => (useRef ? attentionReference(q, kk, vv, { isCausal: true }) : scaledDotProductAttention(q, kk, vv, { isCausal: true })) as Tensor;
    const base = attn(k, v).toFlatArray();
    // overwrite key/value position p (all batches and heads) with other random numbers
    const p = pick % d.S;
    const k2 = k.values.slice(), v2 = v.values.slice();
    const noise = rnd([k2.length + v2.length], d.seed + 9).values;
    for (let b = 0; b < d.B * d.G; b++) {
      for (let i = 0; i < d.D; i++) k2[(b * d.S + p) * d.D + i] = noise[(b * d.S + p) * d.D + i] * 3;
      for (let i = 0; i < d.Dv; i++) v2[(b * d.S + p) * d.Dv + i] = noise[k2.length + (b * d.S + p) * d.Dv + i] * 3;
    }
    const after = attn(tensor(k2, k.shape), tensor(v2, v.shape)).toFlatArray();
    const H = d.G * d.groups;
    for (let bh = 0; bh < d.B * H; bh++) for (let t = 0; t < d.T; t++) {
      if (p <= t + d.S - d.T) continue; // row t may see position p
      for (let i = 0; i < d.Dv; i++) {
        const j = (bh * d.T + t) * d.Dv + i;
        assert.equal(after[j], base[j], `row ${t} changed when position ${p} changed (T=${d.T}, S=${d.S})`);
      }
    }
  }), RUNS);
});

test("GQA equals attention with each key/value head repeated explicitly (G = H), gradients summed per group", () => {
  fc.assert(fc.property(dimsArb, fc.boolean(), (d, isCausal) => {
    const H = d.G * d.groups;
    const [q, k, v] = inputs(d);
    const out = scaledDotProductAttention(q, k, v, { isCausal });
    out.backward(rnd(out.shape, d.seed + 7));
    // explicit: head h reads kv head floor(h / groups), i.e. each kv head repeated `groups` times in order
    const k2 = k.detach(), v2 = v.detach();
    const [q3] = inputs(d);
    const rep = (x: Tensor, e: number) => reshape(expand(reshape(x, [d.B, d.G, 1, d.S, e]), [d.B, d.G, d.groups, d.S, e]), [d.B, H, d.S, e]);
    const kLeaf = tensor(k2.values.slice(), k2.shape, { requiresGrad: true });
    const vLeaf = tensor(v2.values.slice(), v2.shape, { requiresGrad: true });
    const explicit = scaledDotProductAttention(q3, rep(kLeaf, d.D), rep(vLeaf, d.Dv), { isCausal });
    assertClose(out, explicit, { rtol: 1e-5, atol: 1e-6 }, "output");
    explicit.backward(rnd(out.shape, d.seed + 7));
    assertClose(q.grad!, q3.grad!, { rtol: 1e-5, atol: 1e-6 }, "dq");
    assertClose(k.grad!, kLeaf.grad!, { rtol: 1e-4, atol: 1e-6 }, "dk");
    assertClose(v.grad!, vLeaf.grad!, { rtol: 1e-4, atol: 1e-6 }, "dv");
  }), RUNS);
});
