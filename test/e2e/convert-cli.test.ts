// qkv convert as a command: Hugging Face GPT-2 directory -> qkv checkpoint -> Hugging Face, files as
// transformers wrote them; usage errors exit 2; a malformed directory exits 1 naming file and tensor.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseSafetensors } from "../../src/io/safetensors.js";
import { fixturePath, repoRoot } from "../helpers/fixtures.js";

const cli = join(repoRoot, "build", "src", "cli", "main.js");
const tmp = mkdtempSync(join(tmpdir(), "qkv-convert-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const qkv = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: tmp });

test("qkv convert: gpt2-tiny -> qkv run folder -> Hugging Face directory with the same tensors", () => {
  const a = qkv(["convert", fixturePath("gpt2-tiny"), "--out", "run"]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /wrote qkv checkpoint .*step-00000000/);
  const state = JSON.parse(readFileSync(join(tmp, "run", "step-00000000", "state.json"), "utf8"));
  assert.equal(state.step, 0);
  assert.equal(state.tokenizer, null); // 61 tokens: not GPT-2's BPE, and the directory names no tokenizer
  const b = qkv(["convert", "run", "--out", "hf"]);
  assert.equal(b.status, 0, b.stderr);
  const mine = parseSafetensors(readFileSync(join(tmp, "hf", "model.safetensors"))).tensors;
  const theirs = parseSafetensors(readFileSync(join(fixturePath("gpt2-tiny"), "model.safetensors"))).tensors;
  assert.deepEqual([...mine.keys()], [...theirs.keys()]);
  for (const [k, t] of theirs) assert.deepEqual(mine.get(k)?.values, t.values, k);
});

test("qkv convert: --help exits 0; a missing --out or a bad --to exits 2 with the usage", () => {
  const help = qkv(["convert", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: qkv convert SRC --out DST/);
  for (const bad of [["convert", fixturePath("gpt2-tiny")], ["convert", "x", "--out", "y", "--to", "pt"], ["convert"]]) {
    const r = qkv(bad);
    assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /Usage: qkv convert/);
  }
});

test("qkv convert: a truncated model.safetensors exits 1 naming the file and the tensor", () => {
  const dir = join(tmp, "broken");
  mkdirSync(dir);
  writeFileSync(join(dir, "config.json"), readFileSync(join(fixturePath("gpt2-tiny"), "config.json")));
  const bytes = readFileSync(join(fixturePath("gpt2-tiny"), "model.safetensors"));
  writeFileSync(join(dir, "model.safetensors"), bytes.subarray(0, bytes.length - 64));
  const r = qkv(["convert", dir, "--out", "never"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /broken\/model\.safetensors is not a valid safetensors file: .*tensor "ln_f\.(weight|bias)"/);
});
