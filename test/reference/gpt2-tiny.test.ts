// A Hugging Face GPT-2 in miniature (test/fixtures/gpt2-tiny, made with transformers' GPT2LMHeadModel):
// qkv's logits and next-token loss must match PyTorch's, with and without the transformer. prefix.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fromPretrained } from "../../src/io/gpt2.js";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { slice } from "../../src/ops/movement.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { loadPretrained } from "../../src/node.js";
import { assertClose } from "../helpers/assert-close.js";
import { useEnvBackend } from "../helpers/backend.js";
import { fixturePath } from "../helpers/fixtures.js";

const dir = fixturePath("gpt2-tiny");
const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as {
  input_ids: number[][];
  logits: { shape: number[]; data: number[] };
  next_token_loss_first_T_minus_1: number;
};
const [B, T] = [expected.input_ids.length, expected.input_ids[0].length];
before(useEnvBackend);
const ids = Tensor.fromArray(Int32Array.from(expected.input_ids.flat()), [B, T], "int32");

function maxDiffs(actual: ArrayLike<number>, wanted: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0, rel = 0;
  for (let i = 0; i < wanted.length; i++) {
    const d = Math.abs(actual[i] - wanted[i]);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(wanted[i]), 1e-6));
  }
  return { abs, rel };
}

/** Mean cross-entropy of positions 0..T-2 predicting tokens 1..T-1. */
async function nextTokenLoss(logits: Tensor): Promise<number> {
  const inputs = slice(logits, 1, 0, T - 1); // (B, T-1, V)
  const targets = Tensor.fromArray(Int32Array.from(expected.input_ids.flatMap((row) => row.slice(1))), [B, T - 1], "int32");
  return crossEntropy(inputs, targets).itemAsync();
}

async function checkModel(logits: Tensor, label: string): Promise<void> {
  assert.deepEqual([...logits.shape], expected.logits.shape);
  const values = await logits.data();
  const d = maxDiffs(values, expected.logits.data);
  console.log(`# gpt2-tiny ${label}: max |dlogit| ${d.abs.toExponential(2)}, max rel ${d.rel.toExponential(2)}`);
  assertClose(values, expected.logits.data, { rtol: 1e-4, atol: 1e-5 }, `${label} logits`);
  const loss = await nextTokenLoss(logits);
  console.log(`# gpt2-tiny ${label}: loss ${loss} vs ${expected.next_token_loss_first_T_minus_1}`);
  assertClose(loss, expected.next_token_loss_first_T_minus_1, { rtol: 1e-5, atol: 1e-6 }, `${label} loss`);
}

test("gpt2-tiny: logits and next-token loss match transformers (published names)", async () => {
  const model = await loadPretrained(dir);
  assert.equal(model.config.numLayers, 2);
  assert.equal(model.config.vocabSize, 61);
  assert.equal(model.training, false);
  await checkModel(model.forward(ids), "published names");
});

test("gpt2-tiny: the same with every tensor renamed to its transformer.-prefixed name", async () => {
  const bytes = readFileSync(join(dir, "model.safetensors"));
  const parsed = parseSafetensors(bytes);
  const renamed = new Map([...parsed.tensors].map(([k, v]) => [`transformer.${k}`, v]));
  // save_pretrained may also keep the tied head as lm_head.weight: accepted when equal to wte
  renamed.set("lm_head.weight", parsed.tensors.get("wte.weight") as Tensor);
  const model = fromPretrained({ config: readFileSync(join(dir, "config.json")), weights: serializeSafetensors(renamed, { format: "pt" }) });
  await checkModel(model.forward(ids), "transformer.-prefixed");
});

test("gpt2-tiny: a prefix of the batch and of the sequence gives the same logits (causal, batch-independent)", async () => {
  const model = await loadPretrained(dir);
  const short = Tensor.fromArray(Int32Array.from(expected.input_ids[1].slice(0, 5)), [1, 5], "int32");
  const V = expected.logits.shape[2];
  const want = expected.logits.data.slice(T * V, T * V + 5 * V);
  assertClose(await model.forward(short).data(), want, { rtol: 1e-4, atol: 1e-5 }, "row 1, first 5 positions");
});
