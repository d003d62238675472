// GPTConfig presets and checks, GPT-2 initialisation, the tied head, sampling, schedule and decay groups.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GPT, gptConfig } from "../../src/nn/gpt.js";
import { cosineWithWarmup, weightDecayGroups } from "../../src/optim/schedule.js";
import { Rng } from "../../src/util/random.js";
import { sampleLogits } from "../../src/util/sampling.js";

const std = (v: ArrayLike<number>) => {
  let s = 0, s2 = 0;
  for (let i = 0; i < v.length; i++) (s += v[i]), (s2 += v[i] * v[i]);
  return Math.sqrt(s2 / v.length - (s / v.length) ** 2);
};

test("gptConfig: presets, numKvHeads follows numHeads, bad values name the field", () => {
  const nano = gptConfig({ vocabSize: 65 }, "nano");
  assert.deepEqual([nano.numLayers, nano.numHeads, nano.numKvHeads, nano.modelDim, nano.contextLength], [4, 4, 4, 128, 128]);
  const mini = gptConfig({}, "mini");
  assert.deepEqual([mini.numLayers, mini.numHeads, mini.modelDim, mini.contextLength], [6, 6, 384, 256]);
  assert.equal(gptConfig({ numHeads: 8, modelDim: 64 }).numKvHeads, 8);
  assert.throws(() => gptConfig({ numHeads: 4, numKvHeads: 3, modelDim: 16 }), /gptConfig: numHeads 4 must be a multiple of numKvHeads 3/);
  assert.throws(() => gptConfig({ positional: "sinusoid" as never }), /gptConfig: positional must be/);
});

test("GPT: nanoGPT parameter count and GPT-2 initialisation (N(0, 0.02), residual 0.02/sqrt(2L), zero biases)", () => {
  const L = 4, C = 128, V = 65, N = 128;
  const model = new GPT(gptConfig({ vocabSize: V }, "nano"), { rng: new Rng(0) });
  // wte + wpe + L * (2 LN + 4 C^2 + 4C attn + 8 C^2 + 5C mlp) + final LN; the head is tied
  const expected = V * C + N * C + L * (4 * C + 4 * C * C + 4 * C + 8 * C * C + 5 * C) + 2 * C;
  assert.equal(model.numParameters(), expected);
  const p = new Map(model.namedParameters());
  assert.ok(Math.abs(std(p.get("tokenEmbedding.weight")!.values) - 0.02) < 0.002);
  assert.ok(Math.abs(std(p.get("blocks.0.attn.wQ.weight")!.values) - 0.02) < 0.002);
  assert.ok(Math.abs(std(p.get("blocks.1.mlp.proj.weight")!.values) - 0.02 / Math.sqrt(2 * L)) < 0.001);
  assert.ok(p.get("blocks.2.mlp.fc.bias")!.values.every((v) => v === 0));
  assert.ok(!p.has("lmHead.weight"), "the LM head is the token embedding, not a parameter of its own");
});

test("GPT.generate: greedy decoding is deterministic and sampling reproduces with the same seed", () => {
  const model = new GPT({ vocabSize: 17, contextLength: 8, numLayers: 1, numHeads: 2, modelDim: 8 }, { rng: new Rng(3) });
  const greedy = [...model.generate([1, 2, 3], { maxNewTokens: 12, temperature: 0 })];
  assert.equal(greedy.length, 12); // runs past the context length of 8
  assert.deepEqual([...model.generate([1, 2, 3], { maxNewTokens: 12, temperature: 0 })], greedy);
  const a = [...model.generate([4], { maxNewTokens: 10, rng: new Rng(9), topK: 5, topP: 0.9 })];
  const b = [...model.generate([4], { maxNewTokens: 10, rng: new Rng(9), topK: 5, topP: 0.9 })];
  assert.deepEqual(a, b);
  assert.ok(model.training, "generate restores training mode");
});

test("sampleLogits: greedy, top-k and top-p keep only the allowed tokens", () => {
  const logits = [0, 3, 1, 2.9, -5];
  assert.equal(sampleLogits(logits, new Rng(0), { temperature: 0 }), 1);
  const rng = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(sampleLogits(logits, rng, { topK: 2 }));
  assert.deepEqual([...seen].sort(), [1, 3]);
  const nucleus = new Set<number>();
  // probs ~ [0.02, 0.45, 0.06, 0.41, 0.0003]: p = 0.5 keeps tokens 1 and 3 only
  for (let i = 0; i < 200; i++) nucleus.add(sampleLogits(logits, rng, { topP: 0.5 }));
  assert.deepEqual([...nucleus].sort(), [1, 3]);
});

test("cosineWithWarmup matches nanoGPT get_lr; weightDecayGroups decays only tensors of rank >= 2", () => {
  const s = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, decaySteps: 110 };
  assert.equal(cosineWithWarmup(0, s), 1e-3 * 1 / 11);
  assert.equal(cosineWithWarmup(10, s), 1e-3);
  assert.ok(Math.abs(cosineWithWarmup(60, s) - 5.5e-4) < 1e-12);
  assert.equal(cosineWithWarmup(110, s), 1e-4);
  assert.equal(cosineWithWarmup(500, s), 1e-4);
  const model = new GPT({ vocabSize: 5, contextLength: 4, numLayers: 1, numHeads: 1, modelDim: 4 }, { rng: new Rng(0) });
  const [decay, none] = weightDecayGroups(model.namedParameters(), 0.1);
  assert.ok(decay.params.every((p) => p.ndim >= 2) && decay.weightDecay === 0.1);
  assert.ok(none.params.every((p) => p.ndim === 1) && none.weightDecay === 0);
  assert.equal(decay.params.length + none.params.length, model.parameters().length);
});
