// GPT-2 small (124M) from a Hugging Face layout: load, a 64-token forward pass and 16 tokens of
// KV-cached greedy decoding in a child process whose peak RSS must stay under 1.5 GB. The weights
// are random (written by the test into a temporary folder, about 500 MB, never committed).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const child = join(dirname(fileURLToPath(import.meta.url)), "gpt2-124m.child.js");
const dir = mkdtempSync(join(tmpdir(), "qkv-gpt2-124m-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const LIMIT = 1.5e9;

test("GPT-2 124M: loads from a Hugging Face layout, runs 64 tokens, decodes 16 with the KV cache, under 1.5 GB RSS", () => {
  const w = spawnSync(process.execPath, [child, "write", dir], { encoding: "utf8" });
  assert.equal(w.status, 0, w.stderr);
  const r = spawnSync(process.execPath, [child, "run", dir], { encoding: "utf8", timeout: 20 * 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(`# GPT-2 124M (js backend): load ${(out.loadMs / 1000).toFixed(1)} s, 64-token forward ${(out.forwardMs / 1000).toFixed(1)} s, 8-token prompt + 16 cached tokens ${(out.generateMs / 1000).toFixed(1)} s, peak RSS ${mb(out.maxRssBytes)}`);
  assert.equal(out.parameters, 124_439_808); // GPT-2 small with the LM head tied to wte
  assert.deepEqual(out.shape, [1, 64, 50257]);
  assert.equal(out.finite, true);
  assert.equal(out.tokens.length, 16);
  assert.ok(out.tokens.every((t: number) => Number.isInteger(t) && t >= 0 && t < 50257));
  assert.equal(out.tokens[0], out.argmaxAt7, "the cached decoder's first token is the full forward's argmax at the prompt's last position");
  assert.ok(out.maxRssBytes < LIMIT, `peak RSS ${mb(out.maxRssBytes)} exceeds ${mb(LIMIT)}`);
});
