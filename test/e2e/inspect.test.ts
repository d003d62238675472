// qkv inspect and its terminal rendering: plain text without colour, truecolor and 256-colour
// escapes with it, the party view of a trained party model, and a GPT checkpoint on a prompt.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatHeatmap, formatPartyView } from "../../src/cli/inspect-text.js";
import { traceAttention } from "../../src/explain/trace.js";
import { GPT } from "../../src/nn/gpt.js";
import { saveCheckpoint } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { AttentionStack, ids } from "../helpers/attention-stack.js";
import { partyToy } from "../helpers/party-toy.js";
import { servedUrl } from "../helpers/browser.js";

const ESC = /\x1b\[/;

function uniformToy() {
  const m = new AttentionStack({ vocab: 5, dim: 4, layers: 1, heads: 1 });
  for (const p of [m.layers[0].wQ.weight, m.layers[0].wQ.bias, m.layers[0].wK.weight, m.layers[0].wK.bias]) p?.values.fill(0);
  return traceAttention(() => m.forward(ids([[1, 2, 3, 4]]))).layers[0];
}

test("formatHeatmap without colour: shade characters by weight, no escape codes", () => {
  const l = uniformToy(); // causal uniform: row t has 1/(t+1) on s <= t
  const text = formatHeatmap(l, 0, ["a", "b", "c", "d"], ["a", "b", "c", "d"], "none");
  assert.doesNotMatch(text, ESC);
  const rows = text.split("\n").slice(1, 5);
  // weights 1 -> █, 1/2 -> ▒ (round(2) = 2), 1/3 -> ░ (round(1.33) = 1), 1/4 -> ░ (round(1) = 1), 0 -> space
  assert.equal(rows[0], " a    ██      ");
  assert.equal(rows[1], " b    ▒▒▒▒    ");
  assert.equal(rows[2], " c    ░░░░░░  ");
  assert.equal(rows[3], "▶d    ░░░░░░░░");
});

test("formatHeatmap with colour: truecolor and 256-colour escapes", () => {
  const l = uniformToy();
  assert.match(formatHeatmap(l, 0, ["a", "b", "c", "d"], ["a", "b", "c", "d"], "truecolor"), /\x1b\[38;2;253;231;37m██/); // weight 1 = viridis top
  assert.match(formatHeatmap(l, 0, ["a", "b", "c", "d"], ["a", "b", "c", "d"], "256"), /\x1b\[38;5;\d+m██/);
});

test("formatPartyView names the guest with the largest share first and prints every share", () => {
  const party = partyToy(0, 3);
  const { layers: [l] } = traceAttention(() => party.run());
  const text = formatPartyView(l, 0, 0, party.tokens, party.queryTokens!, "none");
  const rows = text.split("\n").filter((r) => /%\s*$/.test(r));
  assert.equal(rows.length, 6);
  assert.match(rows[0], /^▶ Dmitri /);
  const shares = rows.map((r) => Number(/([\d.]+)%\s+[\d.]+%\s*$/.exec(r)![1]));
  assert.ok(shares[0] > 90 && shares.slice(1).every((s) => s < shares[0]));
  assertCloseSum(shares, 100);
});

function assertCloseSum(xs: number[], total: number): void {
  const s = xs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(s - total) < 0.5, `shares sum to ${s}, expected about ${total}`);
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ["build/src/cli/main.js", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 });

test("qkv inspect --party: the trained party model's party view points at the guest asked about", () => {
  const r = cli(["inspect", "--party", "--steps", "120", "--seed", "1"]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, ESC, "NO_COLOR and a pipe: plain text");
  const target = /asks about (\w+)/.exec(r.stdout)?.[1];
  assert.ok(target, r.stdout.slice(0, 200));
  assert.match(r.stdout, new RegExp(`\\n▶ ${target} `), "the first guest of the party view is the one asked about");
  assert.match(r.stdout, /answer: ".*" \(right\)/);
});

test("qkv inspect --party --grad adds a |gradient × weight| map per head", () => {
  const r = cli(["inspect", "--party", "--steps", "60", "--grad"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /gradient maps: d\(the logit of the story answered\)/);
  assert.match(r.stdout, /layer 0 head 0 \| ?gradient × weight\||layer 0 head 0 · \|gradient × weight\|/);
});

test("qkv inspect CHECKPOINT --prompt: every layer and head of a GPT checkpoint, --html writes the page", async () => {
  const dir = mkdtempSync(join(tmpdir(), "qkv-inspect-"));
  try {
    const chars = [..."abcdefgh "];
    const config = { vocabSize: chars.length, contextLength: 16, numLayers: 2, numHeads: 2, modelDim: 8 };
    const model = new GPT(config, { rng: new Rng(4) });
    await saveCheckpoint(dir, { config, model: model.stateDict(), optimizer: new Map(), state: { step: 1, tokenizer: { kind: "char", chars } } });
    const html = join(dir, "page.html");
    const r = cli(["inspect", dir, "--prompt", "abc abd", "--html", html]);
    assert.equal(r.status, 0, r.stderr);
    for (const lh of ["layer 0 head 0", "layer 0 head 1", "layer 1 head 0", "layer 1 head 1"]) assert.match(r.stdout, new RegExp(`${lh} ·`));
    assert.equal(r.stdout.match(/party view: layer/g)?.length, 4);
    assert.match(r.stdout, /query 6 "d"/, "the party view defaults to the last token");
    const page = readFileSync(html, "utf8");
    assert.match(page, /<script id="qkv-data" type="application\/json">\{"version":1/);
    // the model's next-token logits in the page notes agree with a direct forward
    const logits = model.forward(Tensor.fromArray(Int32Array.from([0, 1, 2, 8, 0, 1, 3]), [1, 7], "int32")).values;
    let best = 0;
    for (let i = 1; i < chars.length; i++) if (logits[6 * chars.length + i] > logits[6 * chars.length + best]) best = i;
    assert.match(r.stdout, new RegExp(`next token after the input: ${JSON.stringify(JSON.stringify(chars[best])).slice(1, -1)}`));
    const bad = cli(["inspect", dir, "--prompt", "xyz"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not in the 9-character vocabulary/);
    assert.equal(cli(["inspect", dir]).status, 2, "--prompt is required");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("qkv inspect --serve prints a tokened 127.0.0.1 URL whose trace answers, and stops on Ctrl-C", async () => {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["build/src/cli/main.js", "inspect", "--party", "--steps", "20", "--serve"], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  try {
    const url = await servedUrl(child, "qkv inspect");
    const u = new URL(url);
    const trace = await fetch(`${u.origin}/api/trace${u.search}`);
    assert.equal(trace.status, 200);
    const p = (await trace.json()) as { layers: unknown[]; queryTokens: string[] };
    assert.equal(p.layers.length, 1);
    assert.match(p.queryTokens[0], /asks: what is/);
    assert.equal((await fetch(`${u.origin}/api/trace`)).status, 401, "no token, no trace");
  } finally {
    child.kill("SIGINT");
  }
  const code = await new Promise((r) => child.once("exit", (c) => r(c)));
  assert.equal(code, 0);
});
