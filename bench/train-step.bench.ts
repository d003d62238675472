// Training-step throughput at the acceptance shape: vocab 65, 4 layers, 4 heads, width 128,
// context 128, batch 16, AdamW (issue #4 asks >= 6,000 tokens/s). Verifies the first step's loss
// against the js reference backend, then times steps. Run: node build/bench/train-step.bench.js
// [--backend=wasm] [--steps=5] [--smoke]; or call benchTrainStep() from a harness.
import { getBackend, setBackend, type BackendName } from "../src/backend/select.js";
import { GPT, gptConfig } from "../src/nn/gpt.js";
import { Trainer, TRAIN_DEFAULTS } from "../src/train/trainer.js";
import { Rng } from "../src/util/random.js";
import { useThreads } from "../src/node.js";

export interface TrainStepBench {
  backend: string;
  steps: number;
  tokensPerStep: number;
  medianMs: number;
  tokensPerSec: number;
  /** |first loss - js first loss| / js first loss. */
  lossRelDiff: number;
}

function makeTrainer(shape: { layers: number; dim: number; context: number; batch: number }): Trainer {
  const config = gptConfig({ vocabSize: 65, numLayers: shape.layers, numHeads: 4, modelDim: shape.dim, contextLength: shape.context });
  const model = new GPT(config, { rng: new Rng(1337) });
  const data = new Rng(0);
  const tokens = Int32Array.from({ length: 50_000 }, () => data.int(65));
  return new Trainer(model, { train: tokens, val: tokens.subarray(0, 0) }, { ...TRAIN_DEFAULTS, batchSize: shape.batch, steps: 1000, warmupSteps: 0 });
}

export const TRAIN_SHAPES = {
  smoke: { layers: 1, dim: 32, context: 16, batch: 2 },
  /** The shape issue #4 measures. */
  full: { layers: 4, dim: 128, context: 128, batch: 16 },
};

/**
 * Times `steps` training steps (after one warm-up step) on `backend` (webgpu through the async
 * step, so the time includes reading the loss back); smoke uses a tiny shape.
 */
export async function benchTrainStep(opts: { backend?: string; steps?: number; smoke?: boolean; shape?: typeof TRAIN_SHAPES.full } = {}): Promise<TrainStepBench> {
  const shape = opts.shape ?? (opts.smoke ? TRAIN_SHAPES.smoke : TRAIN_SHAPES.full);
  const previous = getBackend();
  try {
    setBackend("js");
    const reference = makeTrainer(shape).trainStep().loss;
    await setBackend((opts.backend ?? previous) as BackendName);
    const trainer = makeTrainer(shape);
    const step = getBackend() === "webgpu" ? () => trainer.trainStepAsync() : async () => trainer.trainStep();
    const first = await step(); // also the warm-up
    const lossRelDiff = Math.abs(first.loss - reference) / reference;
    if (!(lossRelDiff <= 1e-4)) throw new Error(`benchTrainStep: first loss ${first.loss} on ${getBackend()} differs from js ${reference}`);
    const times: number[] = [];
    for (let i = 0; i < (opts.steps ?? 3); i++) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor(times.length / 2)];
    return { backend: getBackend(), steps: times.length, tokensPerStep: first.tokens, medianMs, tokensPerSec: first.tokens / (medianMs / 1000), lossRelDiff };
  } finally {
    await setBackend(previous);
  }
}

// Figures for the same step measured on this machine kind, quoted from issue #4 (PyTorch and jax-js
// cannot be installed here; TensorFlow.js wasm was measured there with a hand-written GPT).
const QUOTED_PEERS: [string, number][] = [["PyTorch CPU, 2 threads", 17_700], ["jax-js wasm, 2 threads", 4_100], ["TensorFlow.js wasm", 356]];

/** npm run bench entry: the training step on every core, with ratios to the quoted peers. */
export async function run({ smoke }: { smoke: boolean }): Promise<void> {
  const threads = await useThreads();
  const r = await benchTrainStep({ smoke, steps: smoke ? 2 : 5 });
  console.log(`train step (${smoke ? "smoke shape" : "vocab 65, L4 H4 C128 T128 B16"}, AdamW) on ${r.backend}, ${threads} threads: median ${r.medianMs.toFixed(1)} ms, ${Math.round(r.tokensPerSec)} tokens/s (first loss within ${r.lossRelDiff.toExponential(1)} of js)`);
  if (!smoke) for (const [name, tps] of QUOTED_PEERS) console.log(`  vs ${name} (quoted ${tps} tokens/s): ${(r.tokensPerSec / tps).toFixed(2)}x`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const r = await benchTrainStep({ backend: arg("backend"), steps: arg("steps") ? Number(arg("steps")) : undefined, smoke: process.argv.includes("--smoke") });
  console.log(`train step (${process.argv.includes("--smoke") ? "smoke shape" : "vocab 65, L4 H4 C128 T128 B16"}, AdamW) on ${r.backend}: median ${r.medianMs.toFixed(1)} ms, ${Math.round(r.tokensPerSec)} tokens/s (${r.tokensPerStep} tokens/step, loss rel diff vs js ${r.lossRelDiff.toExponential(1)})`);
}
