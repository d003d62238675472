// Crash safety: a child process saves checkpoints step after step and is SIGKILLed at 60 different
// moments (exactly at each phase marker of a save, 1-5 ms after one, and at set times from start-up),
// some while a step is being saved again over its old directory.
// After every kill the latest checkpoint must load whole, at the last fully saved step or the one being saved.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadCheckpoint, saveCheckpoint } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";

const CHILD = fileURLToPath(new URL("./checkpoint-kill-child.js", import.meta.url));
const FLOATS = 256 * 1024; // 1 MiB per tensor: 1 MiB model + 2 MiB optimizer per save
const KILLS = 60;
const LANES = 3; // independent roots killed in parallel, to keep the test short
/** Markers a save prints, in order; the kill plan cycles through them. */
const PHASES = ["serialized", "tmp-dir", "wrote config.json", "wrote model.safetensors", "wrote optimizer.safetensors", "wrote state.json", "synced", "moved-aside", "renamed", "latest", "rotated"];

interface Outcome {
  lastSaved: number; // last "S" line: saveCheckpoint resolved
  lastStarted: number; // highest step seen in any line
  lastMarker: string; // the last line before the kill took effect
}

/** Runs the child until `plan` says kill; resolves once it has exited and its output is read. */
function runOnce(root: string, k: number, plan: Plan): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const pause = plan.phase !== null && plan.delayMs === 0 ? `${plan.phase}@${plan.skipSaves}` : "none@0";
    const args = [CHILD, root, String(FLOATS), String(k), plan.resave ? "resave" : "next", pause];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Outcome = { lastSaved: 0, lastStarted: 0, lastMarker: "start" };
    let killed = false, buffered = "", stderr = "", seen = 0;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      if (plan.delayMs === 0) child.kill("SIGKILL");
      else setTimeout(() => child.kill("SIGKILL"), plan.delayMs);
    };
    if (plan.phase === null) setTimeout(kill, 0); // kill by time alone (delayMs from now)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const [kind, step, ...rest] = line.split(" ");
        const s = Number(step);
        out.lastStarted = Math.max(out.lastStarted, s);
        if (kind === "S") out.lastSaved = s;
        out.lastMarker = line;
        if (kind === "P" && rest.join(" ") === plan.phase && seen++ === plan.skipSaves) kill();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("error", reject);
    // "close", not "exit": only then has every line the child wrote before the kill been read (on a
    // busy machine "exit" can come first, and a step it had started would look never started)
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child exited on its own (code ${code}, signal ${signal}): ${stderr}`));
      else resolve(out);
    });
  });
}

const t = (x: number, n: number): Tensor => Tensor.fromArray(new Float32Array(n).fill(x), [n], "float32");

interface Plan {
  phase: string | null; // kill on the (skipSaves + 1)-th line with this phase, or by time alone when null
  delayMs: number;
  skipSaves: number;
  resave: boolean; // first save the loaded step again: the replace-in-place path ("moved-aside")
}

/**
 * Kill k's moment, all distinct: on marker PHASES[k % 11] plus floor(k / 11) ms (the first 11 kills, at
 * 0 ms, freeze the child right at the marker so the kill lands exactly there), or by time alone.
 */
function planFor(k: number): Plan {
  if (k >= PHASES.length && k % 6 === 5) return { phase: null, delayMs: 30 + 7 * k, skipSaves: 0, resave: k % 4 === 1 };
  const phase = PHASES[k % PHASES.length];
  // "moved-aside" only happens when a step is saved again, so those runs re-save and stop on the first one
  if (phase === "moved-aside") return { phase, delayMs: Math.floor(k / PHASES.length), skipSaves: 0, resave: true };
  return { phase, delayMs: Math.floor(k / PHASES.length), skipSaves: k % 2, resave: k % 3 === 0 };
}

/** One root, killed at moments k = lane, lane + LANES, ...; checks every reload. */
async function lane(lane: number, landed: Map<string, number>): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "qkv-kill-"));
  let floor = 0; // the step loaded after the previous kill: never go below it
  // the highest step any run of this lane started: an earlier run may have written a whole step that
  // `latest` never pointed at, and a later crash (a re-save moving the latest step aside) may surface it
  let started = 0;
  try {
    // step 0, as the child would write it, so that even a kill before the first save has something to load
    await saveCheckpoint(root, {
      config: { floats: FLOATS }, model: new Map([["w", t(0, FLOATS)], ["b", t(0, 16)]]),
      optimizer: new Map([["0.m", t(-0, FLOATS)], ["0.v", t(-0, FLOATS)]]), state: { step: 0, run: 0, rng: { words: [0, 1, 2, 3], spare: null } },
    });
    for (let k = lane; k < KILLS; k += LANES) {
      const plan = planFor(k);
      const o = await runOnce(root, k, plan);
      const marker = o.lastMarker.replace(/^P \d+ /, "").replace(/^S \d+/, "saved");
      landed.set(marker, (landed.get(marker) ?? 0) + 1);

      const ck = await loadCheckpoint(root);
      const step = ck.state.step as number;
      const context = `kill ${k} (${plan.phase ?? "time"} +${plan.delayMs} ms), last line "${o.lastMarker}"`;
      assert.ok(step >= o.lastSaved, `${context}: loaded step ${step} but step ${o.lastSaved} was fully saved`);
      assert.ok(step >= floor, `${context}: loaded step ${step} went back from ${floor}`);
      started = Math.max(started, o.lastStarted);
      assert.ok(step <= Math.max(started, floor), `${context}: loaded step ${step} was never started`);
      // whole and unmixed: every value belongs to this step
      const w = ck.model.get("w")!.values, m = ck.optimizer.get("0.m")!.values, v = ck.optimizer.get("0.v")!.values;
      assert.equal(w.length, FLOATS, context);
      assert.ok(w.every((x) => x === step) && m.every((x) => x === -step) && v.every((x) => x === -step), `${context}: tensors of step ${step} hold other steps' values`);
      assert.deepEqual(ck.state.rng, { words: [step, 1, 2, 3], spare: null }, context);
      const run = ck.state.run as number;
      assert.ok(ck.model.get("b")!.values.every((x) => x === run), `${context}: model.safetensors and state.json come from different saves`);
      floor = step;
    }
    // one clean save afterwards clears every leftover of the crashed ones
    const ck = await loadCheckpoint(root);
    await saveCheckpoint(root, { ...ck, state: { ...ck.state, step: floor + 1 } }, { keep: 2 });
    const names = readdirSync(root).sort();
    assert.deepEqual(names.filter((n) => !/^step-\d{8}$/.test(n)), ["latest"], `leftovers: ${names.join(", ")}`);
    assert.equal(names.length, 3, `rotation kept ${names.join(", ")}`);
    return floor;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test(`checkpoint: ${KILLS} SIGKILLs at different moments of saving never lose a saved step or leave latest unloadable`, { timeout: 120_000 }, async () => {
  const moments = new Set(Array.from({ length: KILLS }, (_, k) => JSON.stringify(planFor(k))));
  assert.ok(moments.size >= 50, `only ${moments.size} distinct kill moments`);
  const landed = new Map<string, number>();
  const steps = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i, landed)));
  // the kills landed in many phases of a save, not all in one
  assert.ok(landed.size >= 6, `kills landed after only ${[...landed.keys()].join(", ")}`);
  if (process.env.QKV_KILL_STATS) console.log({ moments: moments.size, landed: Object.fromEntries(landed), steps });
});
