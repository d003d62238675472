// qkv train / resume / sample end to end in a temporary folder, on a tiny model and a tiny text.
// Resume must reproduce the uninterrupted run's losses bit for bit, also after a real Ctrl-C.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "../helpers/fixtures.js";

const cli = join(repoRoot, "build", "src", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "qkv-train-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const text = join(dir, "tiny.txt");
writeFileSync(text, "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat by a log.\n".repeat(20));
const TINY = [text, "--layers", "1", "--heads", "2", "--dim", "16", "--context", "16", "--batch", "2", "--eval-iters", "2", "--sample", "0", "--json"];

function qkv(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: dir });
}

type Line = { type: string; step: number; loss?: number; valLoss?: number; dir?: string };
const lines = (stdout: string): Line[] => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const losses = (ls: Line[]) => new Map(ls.filter((l) => l.type === "step").map((l) => [l.step, l.loss as number]));

test("qkv train --help exits 0; bad or unknown flags exit 2 with the usage", () => {
  const help = qkv(["train", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: qkv train \[FILE\]/);
  for (const bad of [["train", "--steps", "abc"], ["train", "--bogus"], ["train", "--positional", "sinusoid"], ["sample"], ["resume"], ["sample", "x", "--top-p", "2"], ["train", "--backend", "cuda"]]) {
    const r = qkv(bad);
    assert.equal(r.status, 2, `${bad.join(" ")}: exit ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, /Usage: qkv/);
  }
});

test("qkv resume from a mid-run checkpoint continues with bit-identical losses (with dropout)", () => {
  const full = qkv(["train", ...TINY, "--steps", "8", "--warmup", "2", "--eval-every", "4", "--dropout", "0.1", "--out", "full"]);
  assert.equal(full.status, 0, full.stderr);
  const fullLines = lines(full.stdout);
  const ref = losses(fullLines);
  assert.equal(ref.size, 8);
  assert.ok(fullLines.some((l) => l.type === "eval" && Number.isFinite(l.valLoss)));
  const ckpts = readdirSync(join(dir, "full")).filter((n) => n.startsWith("step-")).sort();
  assert.ok(ckpts.length >= 2, `checkpoints: ${ckpts.join(", ")}`);
  const resumed = qkv(["resume", join(dir, "full", ckpts[0]), "--json"]); // step 4
  assert.equal(resumed.status, 0, resumed.stderr);
  const got = losses(lines(resumed.stdout));
  assert.deepEqual([...got.keys()], [5, 6, 7, 8]);
  for (const [step, loss] of got) assert.equal(loss, ref.get(step), `step ${step}: resumed ${loss} vs uninterrupted ${ref.get(step)}`);
});

test("on webgpu: train, resume from a mid-run checkpoint with bit-identical losses, and sample the same text as wasm", () => {
  const full = qkv(["train", ...TINY, "--steps", "6", "--warmup", "2", "--eval-every", "3", "--out", "gpu", "--backend", "webgpu"]);
  assert.equal(full.status, 0, full.stderr);
  const ref = losses(lines(full.stdout));
  assert.equal(ref.size, 6);
  const resumed = qkv(["resume", join(dir, "gpu", "step-00000003"), "--json"]); // the run's backend, webgpu
  assert.equal(resumed.status, 0, resumed.stderr);
  const got = losses(lines(resumed.stdout));
  assert.deepEqual([...got.keys()], [4, 5, 6]);
  for (const [step, loss] of got) assert.equal(loss, ref.get(step), `step ${step}: resumed ${loss} vs uninterrupted ${ref.get(step)}`);
  const sample = (backend: string) => qkv(["sample", join(dir, "gpu"), "--tokens", "24", "--seed", "3", "--backend", backend]);
  const [onGpu, onWasm] = [sample("webgpu"), sample("wasm")];
  assert.equal(onGpu.status, 0, onGpu.stderr);
  assert.ok(onGpu.stdout.length > 0);
  assert.equal(onGpu.stdout, onWasm.stdout, "the same checkpoint samples the same tokens on both backends");
});

test("Ctrl-C saves a checkpoint and exits 130; resume finishes with the uninterrupted losses", async () => {
  const args = [...TINY, "--steps", "200", "--warmup", "5", "--eval-every", "0", "--save-every", "0"];
  const ref = losses(lines(qkv(["train", ...args, "--out", "ref"]).stdout));
  assert.equal(ref.size, 200);
  const child = spawn(process.execPath, [cli, "train", ...args, "--out", "cut"], { cwd: dir });
  let out = "";
  let signalled = false;
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (!signalled && out.includes('"step":20,')) {
      signalled = true;
      child.kill("SIGINT");
    }
  });
  const code = await new Promise<number | null>((res) => child.on("close", res));
  assert.equal(code, 130);
  const cut = lines(out);
  const stop = cut.find((l) => l.type === "interrupted");
  assert.ok(stop && stop.step >= 20 && stop.step < 200, `interrupted line: ${JSON.stringify(stop)}`);
  assert.ok(existsSync(join(dir, "cut", "latest")));
  const resumed = qkv(["resume", join(dir, "cut"), "--json"]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const all = new Map([...losses(cut), ...losses(lines(resumed.stdout))]);
  assert.equal(all.size, 200);
  for (const [step, loss] of all) assert.equal(loss, ref.get(step), `step ${step}`);
});

test("qkv sample streams a continuation of the prompt from the latest checkpoint, reproducibly", () => {
  const trained = qkv(["train", ...TINY, "--steps", "3", "--out", "s"]);
  assert.equal(trained.status, 0, trained.stderr);
  const a = qkv(["sample", join(dir, "s"), "--prompt", "the cat", "--tokens", "30", "--seed", "3"]);
  assert.equal(a.status, 0, a.stderr);
  assert.ok(a.stdout.startsWith("the cat"), a.stdout);
  assert.equal(a.stdout.length, "the cat".length + 30 + 1, "prompt, 30 characters, newline");
  const b = qkv(["sample", join(dir, "s"), "--prompt", "the cat", "--tokens", "30", "--seed", "3"]);
  assert.equal(b.stdout, a.stdout);
  const bad = qkv(["sample", join(dir, "s"), "--prompt", "the cat!", "--tokens", "3"]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /CharTokenizer.encode: character "!"/);
});
