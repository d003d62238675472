// Child process for checkpoint-kill.test.ts: resumes from the latest checkpoint under argv[2] and saves
// step after step forever, printing "P <step> <phase>" as each save progresses and "S <step>" once
// saveCheckpoint has resolved. Every value of step s's tensors is s (model) or -s (optimizer), so the
// parent can tell a torn or mixed checkpoint from a whole one.
import { writeSync } from "node:fs";
import type { Checkpoint } from "../../src/io/checkpoint.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";

const root = process.argv[2];
const floats = Number(process.argv[3]);

function make(step: number): Checkpoint {
  const t = (v: number, n: number): Tensor => Tensor.fromArray(new Float32Array(n).fill(v), [n], "float32");
  return {
    config: { floats },
    model: new Map([["w", t(step, floats)], ["b", t(step, 16)]]),
    optimizer: new Map([["0.m", t(-step, floats)], ["0.v", t(-step, floats)]]),
    state: { step, rng: { words: [step, 1, 2, 3], spare: null } },
  };
}

let step = 1;
try {
  step = ((await loadCheckpoint(root)).state.step as number) + 1;
} catch {
  // first run: nothing saved yet
}
for (;; step++) {
  const s = step;
  await saveCheckpoint(root, make(s), { keep: 2, onProgress: (phase) => writeSync(1, `P ${s} ${phase}\n`) });
  writeSync(1, `S ${s}\n`);
}
