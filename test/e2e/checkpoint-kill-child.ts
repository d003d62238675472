// Child process for checkpoint-kill.test.ts: resumes from the latest checkpoint under argv[2] and saves
// step after step forever, printing "P <step> <phase>" as each save progresses and "S <step>" once
// saveCheckpoint has resolved. With argv[5] = "resave" it first saves the loaded step again (the
// replace-in-place path). With argv[6] = "<phase>@<n>" it freezes for 2 s right after printing the n-th
// (0-based) marker of that phase, so the parent's kill lands exactly there. Every value of step s's tensors is s (model) or -s (optimizer), and "b"
// holds the run id argv[4], so the parent can tell a torn or mixed checkpoint from a whole one.
import { writeSync } from "node:fs";
import type { Checkpoint } from "../../src/io/checkpoint.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";

const root = process.argv[2];
const floats = Number(process.argv[3]);
const run = Number(process.argv[4]);
const resave = process.argv[5] === "resave";
const [pausePhase, pauseAt] = (process.argv[6] ?? "none@0").split("@");
let seen = 0;

function marker(step: number, phase: string): void {
  writeSync(1, `P ${step} ${phase}\n`);
  // a synchronous sleep inside onProgress stops the save at this very point until the kill arrives
  if (phase === pausePhase && seen++ === Number(pauseAt)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
}

function make(step: number): Checkpoint {
  const t = (v: number, n: number): Tensor => Tensor.fromArray(new Float32Array(n).fill(v), [n], "float32");
  return {
    config: { floats },
    model: new Map([["w", t(step, floats)], ["b", t(run, 16)]]),
    optimizer: new Map([["0.m", t(-step, floats)], ["0.v", t(-step, floats)]]),
    state: { step, run, rng: { words: [step, 1, 2, 3], spare: null } },
  };
}

let step = 1;
try {
  step = ((await loadCheckpoint(root)).state.step as number) + (resave ? 0 : 1);
} catch {
  // first run: nothing saved yet
}
for (;; step++) {
  const s = step;
  await saveCheckpoint(root, make(s), { keep: 2, onProgress: (phase) => marker(s, phase) });
  writeSync(1, `S ${s}\n`);
}
