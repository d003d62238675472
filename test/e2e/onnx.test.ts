// qkv export-onnx -> onnxruntime-node: the exported graph computes qkv's logits for several batch
// sizes and sequence lengths (dynamic axes), and GPT-2's fixture logits from a Hugging Face directory.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as ort from "onnxruntime-node";
import { exportGptOnnx } from "../../src/io/onnx.js";
import { varint } from "../../src/io/protobuf.js";
import { GPT } from "../../src/nn/gpt.js";
import { saveCheckpoint } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { fixturePath, repoRoot } from "../helpers/fixtures.js";

const cli = join(repoRoot, "build", "src", "cli", "main.js");
const tmp = mkdtempSync(join(tmpdir(), "qkv-onnx-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function randomIds(B: number, T: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: B * T }, () => rng.int(V));
}

async function run(session: ort.InferenceSession, ids: Int32Array, B: number, T: number): Promise<ort.Tensor> {
  const out = await session.run({ input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), [B, T]) });
  return out.logits;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test("varint: GPT-2-sized lengths, and negative int64 as ten bytes", () => {
  assert.deepEqual([...varint(300)], [0xac, 0x02]);
  assert.deepEqual([...varint(2 ** 31)], [0x80, 0x80, 0x80, 0x80, 0x08]);
  assert.deepEqual([...varint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test("qkv export-onnx CHECKPOINT: onnxruntime's logits match qkv's for batch 1 and 3, sequence 1, 5 and 16", async () => {
  const cfg = { vocabSize: 53, contextLength: 16, numLayers: 2, numHeads: 4, modelDim: 32 };
  const model = new GPT(cfg, { rng: new Rng(11) });
  const noise = new Rng(12); // non-zero biases and norms, as after training
  for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.values[i] += 0.05 * (noise.next() - 0.5);
  model.eval();
  await saveCheckpoint(join(tmp, "run"), { config: { ...model.config }, model: model.stateDict(), optimizer: new Map(), state: { step: 3 } });
  const onnxPath = join(tmp, "model.onnx");
  const r = spawnSync(process.execPath, [cli, "export-onnx", join(tmp, "run"), "--out", onnxPath], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /opset 17/);
  const session = await ort.InferenceSession.create(readFileSync(onnxPath));
  assert.deepEqual(session.inputNames, ["input_ids"]);
  assert.deepEqual(session.outputNames, ["logits"]);
  for (const B of [1, 3]) {
    for (const T of [1, 5, 16]) {
      const ids = randomIds(B, T, cfg.vocabSize, 100 * B + T);
      const got = await run(session, ids, B, T);
      const want = model.forward(Tensor.fromArray(ids, [B, T], "int32"));
      assert.deepEqual(got.dims, [B, T, cfg.vocabSize]);
      console.log(`# onnxruntime vs qkv, B=${B} T=${T}: max |d| ${maxAbs(got.data as Float32Array, want.values).toExponential(2)}`);
      assertClose(got.data as Float32Array, want.values, { rtol: 1e-4, atol: 1e-4 }, `B=${B} T=${T}`);
    }
  }
});

test("export-onnx of the gpt2-tiny Hugging Face directory reproduces transformers' logits in onnxruntime", async () => {
  const onnxPath = join(tmp, "gpt2-tiny.onnx");
  const r = spawnSync(process.execPath, [cli, "export-onnx", fixturePath("gpt2-tiny"), "--out", onnxPath], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(readFileSync(join(fixturePath("gpt2-tiny"), "expected.json"), "utf8"));
  const [B, T] = [expected.input_ids.length, expected.input_ids[0].length];
  const session = await ort.InferenceSession.create(readFileSync(onnxPath));
  const got = await run(session, Int32Array.from(expected.input_ids.flat()), B, T);
  console.log(`# onnxruntime vs transformers (gpt2-tiny): max |d| ${maxAbs(got.data as Float32Array, expected.logits.data).toExponential(2)}`);
  assertClose(got.data as Float32Array, expected.logits.data, { rtol: 1e-4, atol: 1e-5 }, "gpt2-tiny logits");
});

test("export-onnx --kv-cache: prefill then cached decoding in onnxruntime matches qkv's full forward and greedy generate", async () => {
  const cfg = { vocabSize: 41, contextLength: 24, numLayers: 2, numHeads: 2, modelDim: 16 };
  const model = new GPT(cfg, { rng: new Rng(21) }).eval();
  const session = await ort.InferenceSession.create(exportGptOnnx(model, { kvCache: true }));
  const [H, D] = [2, 8];
  const B = 2, ids = randomIds(B, 9, cfg.vocabSize, 5);
  const want = model.forward(Tensor.fromArray(ids, [B, 9], "int32")).values; // (B, 9, V)
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < 2; l++) for (const kind of ["key", "value"]) past[`past_${kind}_${l}`] = new ort.Tensor("float32", new Float32Array(0), [B, H, 0, D]);
  // feed 6 tokens, then 2, then 1: each call's logits are the full forward's rows at those positions
  let start = 0;
  for (const n of [6, 2, 1]) {
    const chunk = Int32Array.from({ length: B * n }, (_, i) => ids[Math.floor(i / n) * 9 + start + (i % n)]);
    const out = await session.run({ input_ids: new ort.Tensor("int64", BigInt64Array.from(chunk, (v) => BigInt(v)), [B, n]), ...past });
    const rows = Float32Array.from({ length: B * n * cfg.vocabSize }, (_, i) => {
      const b = Math.floor(i / (n * cfg.vocabSize)), r = i % (n * cfg.vocabSize);
      return want[b * 9 * cfg.vocabSize + start * cfg.vocabSize + r];
    });
    assertClose(out.logits.data as Float32Array, rows, { rtol: 1e-4, atol: 1e-4 }, `positions ${start}..${start + n - 1}`);
    assert.deepEqual(out.present_key_0.dims, [B, H, start + n, D]);
    past = {};
    for (let l = 0; l < 2; l++) for (const kind of ["key", "value"]) past[`past_${kind}_${l}`] = out[`present_${kind}_${l}`];
    start += n;
  }
  // greedy decoding with the cache in onnxruntime = qkv's generate
  const prompt = [3, 14, 15, 9];
  const mine = [...model.generate(prompt, { maxNewTokens: 8, temperature: 0 })];
  const theirs: number[] = [];
  let feed = prompt;
  past = {};
  for (let l = 0; l < 2; l++) for (const kind of ["key", "value"]) past[`past_${kind}_${l}`] = new ort.Tensor("float32", new Float32Array(0), [1, H, 0, D]);
  for (let i = 0; i < 8; i++) {
    const out = await session.run({ input_ids: new ort.Tensor("int64", BigInt64Array.from(feed, (v) => BigInt(v)), [1, feed.length]), ...past });
    const logits = (out.logits.data as Float32Array).subarray((feed.length - 1) * cfg.vocabSize);
    let best = 0;
    for (let j = 1; j < cfg.vocabSize; j++) if (logits[j] > logits[best]) best = j;
    theirs.push(best);
    feed = [best];
    for (let l = 0; l < 2; l++) for (const kind of ["key", "value"]) past[`past_${kind}_${l}`] = out[`present_${kind}_${l}`];
  }
  assert.deepEqual(theirs, mine);
});

test("exportGptOnnx refuses what its graph cannot express; export-onnx without --out is a usage error", () => {
  assert.throws(() => exportGptOnnx(new GPT({ vocabSize: 11, contextLength: 8, numLayers: 1, numHeads: 2, modelDim: 8, positional: "alibi" }, { rng: new Rng(1) })), /exportGptOnnx: .*positional is 'alibi'/);
  assert.throws(() => exportGptOnnx(new GPT({ vocabSize: 11, contextLength: 8, numLayers: 1, numHeads: 2, modelDim: 8, bias: false }, { rng: new Rng(1) })), /bias is false/);
  const r = spawnSync(process.execPath, [cli, "export-onnx", tmp], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out FILE is required/);
});
