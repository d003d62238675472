// Decoding with a KVCache (a prefix, then one token at a time) equals the full causal forward.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { GPT, type GPTConfig } from "../../src/nn/gpt.js";
import { KVCache } from "../../src/nn/kv-cache.js";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { noGrad } from "../../src/autograd/no-grad.js";
import { concat, slice } from "../../src/ops/movement.js";
import { randn } from "../../src/tensor/create.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.shape], [...b.shape]);
  let m = 0;
  const x = a.values, y = b.values;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function cachedVsFull(config: Partial<GPTConfig>, seed: number, prefill: number, B: number, T: number): number {
  const rng = new Rng(seed);
  const model = new GPT({ vocabSize: 13, contextLength: 12, numLayers: 2, numHeads: 4, modelDim: 16, ...config }, { rng });
  model.eval();
  const ids = Tensor.fromArray(Int32Array.from({ length: B * T }, () => rng.int(13)), [B, T], "int32");
  return noGrad(() => {
    const full = model.forward(ids); // (B, T, V)
    const cache = new KVCache(model.config.numLayers);
    const parts = [model.forward(slice(ids, 1, 0, prefill), { cache })];
    for (let t = prefill; t < T; t++) parts.push(model.forward(slice(ids, 1, t, t + 1), { cache }));
    assert.equal(cache.length(), T);
    return maxAbsDiff(concat(parts, 1), full);
  });
}

const variants: [string, Partial<GPTConfig>][] = [
  ["learned positions", { positional: "learned" }],
  ["RoPE", { positional: "rope" }],
  ["ALiBi", { positional: "alibi" }],
  ["GQA (4 heads, 2 kv heads)", { numKvHeads: 2 }],
  ["MQA with RoPE", { numKvHeads: 1, positional: "rope" }],
  ["sliding window 3", { slidingWindow: 3 }],
  ["ALiBi + GQA + sliding window 4", { positional: "alibi", numKvHeads: 2, slidingWindow: 4 }],
  ["RoPE + sliding window 2, no biases", { positional: "rope", slidingWindow: 2, bias: false }],
];

for (const [name, config] of variants) {
  test(`KV cache decode equals the full forward (max abs diff <= 1e-5): ${name}`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 7, max: 12 }), (seed, prefill, B, T) => {
        const d = cachedVsFull(config, seed, prefill, B, T);
        assert.ok(d <= 1e-5, `max abs diff ${d}`);
      }),
      { seed: 42, numRuns: 6 },
    );
  });
}

test("MultiHeadAttention with a cache equals one causal call; positions continue from the cache length", () => {
  const rng = new Rng(5);
  const mha = new MultiHeadAttention({ modelDim: 12, numHeads: 3, isCausal: true, rope: true, alibi: false, slidingWindow: 4, rng });
  const x = randn([2, 7, 12], rng);
  noGrad(() => {
    const full = mha.forward(x);
    const cache = new KVCache();
    const a = mha.forward(slice(x, 1, 0, 4), { cache });
    assert.equal(cache.length(), 4);
    const b = mha.forward(slice(x, 1, 4, 7), { cache });
    assert.equal(cache.length(), 7);
    assert.ok(maxAbsDiff(concat([a, b], 1), full) <= 1e-5);
    cache.reset();
    assert.equal(cache.length(), 0);
  });
});

test("KVCache: mismatched shapes and bad layers are errors", () => {
  const cache = new KVCache(2);
  const rng = new Rng(1);
  cache.append(0, randn([1, 2, 3, 4], rng), randn([1, 2, 3, 4], rng));
  assert.throws(() => cache.append(0, randn([1, 3, 1, 4], rng), randn([1, 3, 1, 4], rng)), /KVCache.append: new k/);
  assert.throws(() => cache.length(2), /KVCache: layer 2 is out of range/);
  assert.throws(() => new GPT({ vocabSize: 5, contextLength: 4, numLayers: 1, numHeads: 1, modelDim: 4 }).forward(Tensor.fromArray(new Int32Array(5), [1, 5], "int32")), /GPT.forward: positions 0..4 exceed the context length 4/);
});
