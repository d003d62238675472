// qkv GPT <-> Hugging Face GPT-2 layout: exact names and shapes, lossless round trips both ways,
// and clear refusals of malformed or unsupported inputs (naming the file and the tensor).
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { convert } from "../../src/cli/commands/convert.js";
import { fromPretrained, gpt2ConfigFromHf, GPT2_NAME_TABLE } from "../../src/io/gpt2.js";
import { parseSafetensors, readSafetensorsHeader, serializeSafetensors } from "../../src/io/safetensors.js";
import { GPT } from "../../src/nn/gpt.js";
import { withoutInit } from "../../src/nn/init.js";
import { loadCheckpoint, loadPretrained, saveCheckpoint, saveHfGpt2 } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { fixturePath } from "../helpers/fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "qkv-gpt2-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = fixturePath("gpt2-tiny");
const fixtureConfig = JSON.parse(readFileSync(join(fixture, "config.json"), "utf8")) as Record<string, unknown>;
const fixtureBytes = readFileSync(join(fixture, "model.safetensors"));
const TINY = { vocabSize: 61, contextLength: 16, numLayers: 2, numHeads: 2, modelDim: 16 };
const ids = Tensor.fromArray(Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7]), [2, 7], "int32");

function trainedLike(seed: number): GPT {
  const model = new GPT(TINY, { rng: new Rng(seed) });
  // non-zero biases and layer-norm parameters, so a swapped or dropped tensor changes the logits
  const rng = new Rng(seed + 1);
  for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.values[i] += 0.1 * (rng.next() - 0.5);
  return model.eval();
}

test("GPT2_NAME_TABLE maps every qkv parameter exactly once", () => {
  const model = trainedLike(1);
  const keys = GPT2_NAME_TABLE.flatMap((r) => [0, 1].flatMap((i) => r.qkv.map((k) => k.replace("{i}", String(i)))));
  assert.deepEqual([...new Set(keys)].sort(), model.namedParameters().map(([k]) => k).sort());
});

test("saveHfGpt2 writes exactly GPT-2's names, shapes and order; the file passes the strict reader", async () => {
  const out = join(tmp, "names");
  await saveHfGpt2(out, trainedLike(2));
  const bytes = readFileSync(join(out, "model.safetensors"));
  const mine = readSafetensorsHeader(bytes), theirs = readSafetensorsHeader(fixtureBytes);
  assert.deepEqual([...mine.entries].map(([k, e]) => [k, e.dtype, e.shape]), [...theirs.entries].map(([k, e]) => [k, e.dtype, e.shape]));
  assert.equal(mine.metadata.get("format"), "pt");
  parseSafetensors(bytes);
  const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
  for (const k of ["model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "layer_norm_epsilon", "activation_function", "tie_word_embeddings"]) {
    assert.deepEqual(cfg[k], fixtureConfig[k], k);
  }
});

test("qkv -> Hugging Face layout -> qkv gives identical logits", async () => {
  const model = trainedLike(3);
  const out = join(tmp, "roundtrip");
  await saveHfGpt2(out, model);
  const back = await loadPretrained(out);
  assert.deepEqual(back.forward(ids).values, model.forward(ids).values);
});

test("Hugging Face -> qkv -> Hugging Face keeps every tensor bit for bit", async () => {
  const out = join(tmp, "hf-again");
  await saveHfGpt2(out, await loadPretrained(fixture));
  const a = parseSafetensors(readFileSync(join(out, "model.safetensors"))).tensors, b = parseSafetensors(fixtureBytes).tensors;
  for (const [k, t] of b) assert.deepEqual(a.get(k)?.values, t.values, k);
});

test("qkv convert: checkpoint -> Hugging Face -> checkpoint gives identical logits and keeps the tokenizer", async () => {
  const model = trainedLike(4);
  const tokenizer = { kind: "char", chars: Array.from({ length: 61 }, (_, i) => String.fromCharCode(32 + i)) };
  await saveCheckpoint(join(tmp, "run"), { config: { ...model.config }, model: model.stateDict(), optimizer: new Map(), state: { step: 7, tokenizer } });
  assert.match(await convert(join(tmp, "run"), join(tmp, "run-hf")), /Hugging Face/);
  assert.match(await convert(join(tmp, "run-hf"), join(tmp, "run-back")), /qkv checkpoint/);
  const ckpt = await loadCheckpoint(join(tmp, "run-back"));
  assert.deepEqual(ckpt.state.tokenizer, tokenizer);
  const back = new GPT(ckpt.config, { rng: new Rng(9) });
  back.loadStateDict(ckpt.model);
  assert.deepEqual(back.eval().forward(ids).values, model.forward(ids).values);
});

test("qkv convert refuses a model GPT-2 cannot express", async () => {
  const model = new GPT({ ...TINY, positional: "rope" }, { rng: new Rng(5) });
  await saveCheckpoint(join(tmp, "rope"), { config: { ...model.config }, model: model.stateDict(), optimizer: new Map(), state: { step: 1 } });
  await assert.rejects(convert(join(tmp, "rope"), join(tmp, "rope-hf")), /gpt2ConfigToHf: .*positional is 'rope'/);
  await assert.rejects(saveHfGpt2(join(tmp, "gqa"), new GPT({ ...TINY, numKvHeads: 1 }, { rng: new Rng(5) })), /numKvHeads 1 != numHeads 2/);
});

// ---- malformed inputs ----

/** A copy of the fixture directory with its tensors and config changed. */
function variant(name: string, edit: { tensors?: (m: Map<string, Tensor>) => void; config?: (c: Record<string, unknown>) => void; rawWeights?: Uint8Array }): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const cfg = structuredClone(fixtureConfig);
  edit.config?.(cfg);
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  if (edit.rawWeights) writeFileSync(join(dir, "model.safetensors"), edit.rawWeights);
  else if (edit.tensors) {
    const m = parseSafetensors(fixtureBytes).tensors;
    edit.tensors(m);
    writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(m));
  } else copyFileSync(join(fixture, "model.safetensors"), join(dir, "model.safetensors"));
  return dir;
}

const cases: [string, Parameters<typeof variant>[1], RegExp][] = [
  ["missing tensor", { tensors: (m) => m.delete("h.1.mlp.c_fc.bias") }, /model\.safetensors: missing tensor "h\.1\.mlp\.c_fc\.bias" \(shape \[64\]/],
  ["wrong shape", { tensors: (m) => m.set("h.0.attn.c_attn.weight", Tensor.fromArray(new Float32Array(16 * 32), [16, 32], "float32")) }, /model\.safetensors: tensor "h\.0\.attn\.c_attn\.weight" has shape \[16, 32\], but .*config\.json: n_embd=16.* needs \[16, 48\]/],
  ["transposed (nn.Linear [out, in]) weight", { tensors: (m) => m.set("h.0.mlp.c_fc.weight", Tensor.fromArray(new Float32Array(64 * 16), [64, 16], "float32")) }, /tensor "h\.0\.mlp\.c_fc\.weight" has shape \[64, 16\].* needs \[16, 64\]/],
  ["unknown activation", { config: (c) => (c.activation_function = "relu") }, /config\.json: activation_function "relu" is not supported/],
  ["config and weights disagree", { config: (c) => (c.n_embd = 32) }, /tensor "wte\.weight" has shape \[61, 16\], but .*n_embd=32.* needs \[61, 32\]/],
  ["more layers than the file holds", { config: (c) => (c.n_layer = 3) }, /missing tensor "h\.2\.ln_1\.weight"/],
  ["unexpected tensor", { tensors: (m) => m.set("h.0.attn.rotary.weight", Tensor.fromArray(new Float32Array(2), [2], "float32")) }, /unexpected tensor "h\.0\.attn\.rotary\.weight"/],
  ["untied LM head", { tensors: (m) => m.set("lm_head.weight", Tensor.fromArray(new Float32Array(61 * 16), [61, 16], "float32")) }, /tensor "lm_head\.weight" differs from wte\.weight/],
  ["untied config", { config: (c) => (c.tie_word_embeddings = false) }, /tie_word_embeddings=false is not supported/],
  ["a different n_inner", { config: (c) => (c.n_inner = 48) }, /n_inner 48 is not supported/],
  ["another model type", { config: (c) => (c.model_type = "llama") }, /model_type must be "gpt2", got "llama"/],
  ["integer weights", { tensors: (m) => m.set("ln_f.bias", Tensor.fromArray(new Int32Array(16), [16], "int32")) }, /tensor "ln_f\.bias" holds I32, expected floating point/],
  ["not safetensors", { rawWeights: new TextEncoder().encode("PK\u0003\u0004 this is a zip file, as torch.save writes") }, /model\.safetensors is not a valid safetensors file: parseSafetensors: header length/],
  ["a prefixed and a bare copy of one tensor", { tensors: (m) => m.set("transformer.ln_f.bias", m.get("ln_f.bias") as Tensor) }, /tensors "ln_f\.bias" and "transformer\.ln_f\.bias" both name ln_f\.bias/],
];

for (const [name, edit, message] of cases) {
  test(`loadPretrained refuses ${name}, naming the file and the tensor or field`, async () => {
    const dir = variant(name.replace(/\W+/g, "-"), edit);
    await assert.rejects(loadPretrained(dir), (e: Error) => {
      assert.equal(e.name, "Gpt2FormatError");
      assert.match(e.message, message);
      assert.ok(e.message.includes(dir), `the message names the path: ${e.message}`);
      return true;
    });
  });
}

test("loadPretrained: a missing file or invalid config.json is reported with its path", async () => {
  await assert.rejects(loadPretrained(join(tmp, "nope")), /loadPretrained: cannot read .*nope\/config\.json/);
  const dir = variant("bad-json", {});
  writeFileSync(join(dir, "config.json"), "{n_embd: 16");
  await assert.rejects(loadPretrained(dir), /parseHfConfig: .*bad-json\/config\.json is not valid JSON/);
});

test("gpt2ConfigFromHf: GPT-2's published config maps field by field; dropout comes from resid_pdrop", () => {
  const c = gpt2ConfigFromHf({ model_type: "gpt2", vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, resid_pdrop: 0.1, layer_norm_epsilon: 1e-5, activation_function: "gelu_new" });
  assert.deepEqual([c.vocabSize, c.contextLength, c.modelDim, c.numLayers, c.numHeads, c.numKvHeads, c.dropout, c.bias, c.positional], [50257, 1024, 768, 12, 12, 12, 0.1, true, "learned"]);
  assert.throws(() => gpt2ConfigFromHf({ vocab_size: 10, n_positions: 8, n_embd: 10, n_layer: 1, n_head: 3 }), /n_embd 10 must be divisible by n_head 3/);
  assert.throws(() => gpt2ConfigFromHf({ vocab_size: 10, n_positions: 8, n_embd: 12, n_head: 3 }), /config\.json: n_layer must be a positive integer, got undefined/);
});

test("fromPretrained works from bytes alone (the browser path)", () => {
  const model = fromPretrained({ config: readFileSync(join(fixture, "config.json"), "utf8"), weights: new Uint8Array(fixtureBytes) });
  assert.equal(model.forward(ids).shape.join(","), "2,7,61");
});

/** float32 -> IEEE binary16 bits, round to nearest even (finite inputs). */
function toHalfBits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24); // subnormal (may round up into the smallest normal: still correct bits)
  let e = Math.floor(Math.log2(a));
  if (a / 2 ** e >= 2) e++;
  if (a / 2 ** e < 1) e--;
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) (m = 0), e++;
  return sign | ((e + 15) << 10) | m;
}

test("loadPretrained reads F16 weights (half-precision Hugging Face files) and still matches transformers closely", async () => {
  const header = readSafetensorsHeader(fixtureBytes);
  const tensors = parseSafetensors(fixtureBytes).tensors;
  const entries: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of header.entries.keys()) {
    const t = tensors.get(name) as Tensor;
    const half = Uint16Array.from(t.values as Float32Array, toHalfBits);
    entries[name] = { dtype: "F16", shape: [...t.shape], data_offsets: [offset, offset + 2 * half.length] };
    chunks.push(new Uint8Array(half.buffer));
    offset += 2 * half.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(entries));
  const file = new Uint8Array(8 + json.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let o = 8 + json.length;
  for (const c of chunks) (file.set(c, o), (o += c.length));
  const dir = variant("f16", { rawWeights: file });
  const expected = JSON.parse(readFileSync(join(fixture, "expected.json"), "utf8"));
  const model = await loadPretrained(dir);
  const ids2 = Tensor.fromArray(Int32Array.from(expected.input_ids.flat()), [2, 11], "int32");
  const got = model.forward(ids2).values;
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected.logits.data[i]));
  assert.ok(maxDiff > 0 && maxDiff < 2e-2, `F16 weights: max |dlogit| ${maxDiff}`);
});

test("loadPretrained: a truncated model.safetensors is refused with its path before any tensor is read", async () => {
  const dir = variant("truncated", { rawWeights: fixtureBytes.subarray(0, fixtureBytes.length - 100) });
  await assert.rejects(loadPretrained(dir), (e: Error) => {
    assert.match(e.message, /loadPretrained: .*truncated\/model\.safetensors is not a valid safetensors file: .*run past the \d+-byte data section/);
    return true;
  });
  const short = variant("short", { rawWeights: fixtureBytes.subarray(0, 5) });
  await assert.rejects(loadPretrained(short), /short\/model\.safetensors is not a valid safetensors file: .*shorter than the 8-byte header/);
});

test("withoutInit: a GPT built inside has zero weights (LayerNorm scales 1); random init resumes after, also after a throw", () => {
  const zeroed = withoutInit(() => new GPT(TINY, { rng: new Rng(1) }));
  for (const [name, p] of zeroed.namedParameters()) {
    const want = /ln\w*\.weight|lnFinal\.weight/.test(name) ? 1 : 0;
    assert.ok(p.values.every((v) => v === want), name);
  }
  assert.throws(() => withoutInit(() => {
    throw new Error("boom");
  }), /boom/);
  const drawn = new GPT(TINY, { rng: new Rng(1) });
  assert.ok(drawn.tokenEmbedding.weight.values.some((v) => v !== 0));
  assert.deepEqual(drawn.blocks[0].attn.wQ.weight.values, new GPT(TINY, { rng: new Rng(1) }).blocks[0].attn.wQ.weight.values);
});
