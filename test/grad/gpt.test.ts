// The GPT's forward and backward, checked against finite differences at a tiny size, with every
// parameter an input of the checked function (float32 analytic vs float64 differences).
import { test } from "node:test";
import { GPT, type GPTConfig } from "../../src/nn/gpt.js";
import type { Module } from "../../src/nn/module.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { gradCheck } from "../helpers/gradcheck.js";

/** Points the module's parameter fields at `tensors` (same order as namedParameters). */
function setParams(model: Module, names: string[], tensors: Tensor[]): void {
  names.forEach((name, i) => {
    const path = name.split(".");
    let obj: any = model;
    for (const key of path.slice(0, -1)) obj = obj[key];
    obj[path[path.length - 1]] = tensors[i];
  });
}

function check(name: string, config: Partial<GPTConfig>): void {
  test(`GPT gradient check: ${name}`, () => {
    const rng = new Rng(7);
    const model = new GPT({ vocabSize: 11, contextLength: 8, numLayers: 2, numHeads: 2, modelDim: 8, ...config }, { rng });
    const named = model.namedParameters();
    const names = named.map(([n]) => n);
    const B = 2, T = 6;
    const ids = Tensor.fromArray(Int32Array.from({ length: B * T }, () => rng.int(11)), [B, T], "int32");
    const targets = Tensor.fromArray(Int32Array.from({ length: B * T }, () => rng.int(11)), [B, T], "int32");
    // larger weights than GPT-2 init, so every path contributes visibly to the loss
    const inputs = named.map(([, p]) => Tensor.fromArray(p.values.map((v) => v * 10 + 0.1 * Math.sin(v * 1000)), p.shape, "float32"));
    gradCheck(name, (...ps) => {
      setParams(model, names, ps);
      return model.loss(ids, targets);
    }, inputs, { rtol: 2e-3, atol: 1e-5 });
  });
}

check("learned positions", { positional: "learned" });
check("RoPE", { positional: "rope" });
check("ALiBi", { positional: "alibi" });
check("GQA (4 heads, 2 kv heads), sliding window 3, no biases", { numHeads: 4, numKvHeads: 2, slidingWindow: 3, bias: false });
