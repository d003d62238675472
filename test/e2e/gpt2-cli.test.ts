// qkv sample and qkv inspect on a Hugging Face GPT-2 directory: GPT-2's BPE in and out, the same
// greedy tokens as the library, attention maps labelled with BPE tokens. The model is small and
// random but has GPT-2's 50257-token vocabulary.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Gpt2Tokenizer } from "../../src/data/tokenizer.js";
import { GPT } from "../../src/nn/gpt.js";
import { loadPretrained, saveHfGpt2 } from "../../src/node.js";
import { Rng } from "../../src/util/random.js";
import { repoRoot } from "../helpers/fixtures.js";

const cli = join(repoRoot, "build", "src", "cli", "main.js");
const tmp = mkdtempSync(join(tmpdir(), "qkv-gpt2-cli-"));
const dir = join(tmp, "gpt2-random");
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await saveHfGpt2(dir, new GPT({ vocabSize: 50257, contextLength: 32, numLayers: 2, numHeads: 2, modelDim: 16 }, { rng: new Rng(3) }));
});
const qkv = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

test("qkv sample on a Hugging Face GPT-2 directory streams the library's greedy BPE tokens", async () => {
  const prompt = "Hello, world";
  const r = qkv(["sample", dir, "--prompt", prompt, "--tokens", "6", "--temperature", "0"]);
  assert.equal(r.status, 0, r.stderr);
  const bpe = await Gpt2Tokenizer.load();
  const model = await loadPretrained(dir);
  const ids = [...model.generate(bpe.encode(prompt), { maxNewTokens: 6, temperature: 0 })];
  assert.equal(r.stdout, prompt + bpe.decode(ids) + "\n");
});

test("qkv inspect on a Hugging Face GPT-2 directory draws attention over the prompt's BPE tokens", () => {
  const r = qkv(["inspect", dir, "--prompt", "The cat sat", "--layer", "1", "--head", "0"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /gpt2-random: "The cat sat"/);
  assert.match(r.stdout, /layer 1 head 0 .*columns: keys 0\.\.2 of 3/);
  assert.match(r.stdout, /▶␣sat/); // leading spaces of BPE tokens are drawn as ␣
});

test("qkv sample refuses a Hugging Face directory whose vocabulary is not GPT-2's BPE and that names no tokenizer", () => {
  const r = qkv(["sample", join(repoRoot, "test", "fixtures", "gpt2-tiny"), "--tokens", "2"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /holds a 61-token GPT-2 and names no tokenizer/);
});
