// WebGPU bench (issue #7): npm run bench -- --backend webgpu [--smoke] (or --filter=webgpu).
// Sets the webgpu backend (in Node: the webgpu package on whatever adapter exists; SwiftShader on a
// machine without a GPU), checks every result against the js reference first, then times medians:
// matmul and attention GFLOP/s through the backend's kernels, and training tokens/s through the
// same Trainer the CLI uses. On a software adapter the sizes shrink (SwiftShader runs at ~0.1-1
// GFLOP/s); on a real GPU they are the issue's: matmul 4096^3 and attention B1 H8 T=S=2048 D64.
import { fileURLToPath } from "node:url";
import { jsKernels } from "../src/backend/js/index.js";
import type { AttentionDims } from "../src/backend/kernels.js";
import { device, gpuAdapterName, gpuContext, setBackend } from "../src/backend/select.js";
import type { Storage } from "../src/backend/storage.js";
import "../src/node.js"; // registers the Node WebGPU provider
import { PartyTrainer } from "../src/train/party.js";
import { Rng } from "../src/util/random.js";
import { benchTrainStep, TRAIN_SHAPES } from "./train-step.bench.js";

function randn(seed: number, n: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

function verify(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  if (!(m <= tol)) throw new Error(`bench: webgpu ${what} differs from the js reference by ${m} (tolerance ${tol}); not timing it`);
  console.log(`  ${what}: checked against js (max rel diff ${m.toExponential(1)})`);
}

/** Sampled entries of a (M, K) @ (K, N) product, in float64 on the host. */
function matmulSamples(a: Float32Array, b: Float32Array, M: number, K: number, N: number, idx: number[]): number[] {
  return idx.map((i) => {
    const r = Math.floor(i / N), c = i % N;
    let s = 0;
    for (let k = 0; k < K; k++) s += a[r * K + k] * b[k * N + c];
    return s;
  });
}

/** Non-causal attention output rows (b, h, t) on the host, for sampled rows. */
function attentionRows(q: Float32Array, k: Float32Array, v: Float32Array, d: AttentionDims, rows: number[]): number[] {
  const { H, G, T, S, D, Dv, scale } = d;
  const out: number[] = [];
  for (const row of rows) {
    const t = row % T, h = Math.floor(row / T) % H, b = Math.floor(row / (T * H)), g = Math.floor(h / (H / G));
    const scores = new Float64Array(S);
    let mx = -Infinity;
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += q[((b * H + h) * T + t) * D + j] * k[((b * G + g) * S + s) * D + j];
      scores[s] = dot * scale;
      mx = Math.max(mx, scores[s]);
    }
    let z = 0;
    for (let s = 0; s < S; s++) z += (scores[s] = Math.exp(scores[s] - mx));
    for (let j = 0; j < Dv; j++) {
      let acc = 0;
      for (let s = 0; s < S; s++) acc += scores[s] * v[((b * G + g) * S + s) * Dv + j];
      out.push(acc / z);
    }
  }
  return out;
}

export async function run(opts: { smoke: boolean }): Promise<void> {
  try {
    await setBackend("webgpu");
  } catch (e) {
    console.log(`!! webgpu bench NOT RUN: ${(e as Error).message}`);
    return;
  }
  const adapter = gpuAdapterName() ?? "unknown adapter";
  const ctx = gpuContext()!, dev = device();
  const software = /swiftshader|llvmpipe|software|cpu/i.test(adapter);
  console.log(`adapter: ${adapter}${software ? " (a software rasterizer: small sizes, figures are functional only)" : ""}`);
  const reps = opts.smoke ? 2 : 5;
  /** Median ms of `inner` back-to-back calls per sync, divided by inner. */
  const median = async (fn: () => void, inner = 1): Promise<number> => {
    fn();
    await ctx.sync(); // warm-up compiles the pipeline
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      for (let j = 0; j < inner; j++) fn();
      await ctx.sync();
      ts.push((performance.now() - t0) / inner);
    }
    return ts.sort((a, b) => a - b)[reps >> 1];
  };
  const line = (name: string, ms: number, flops: number, target = "") =>
    console.log(`${name.padEnd(46)} ${ms.toFixed(2).padStart(10)} ms ${(flops / ms / 1e6).toFixed(2).padStart(10)} GFLOP/s${target}`);
  const up = (a: Float32Array): Storage => dev.fromHost(a, "float32");
  const read = async (s: Storage) => s.read();
  const inner = software ? 1 : 10;

  const sizes = opts.smoke ? [128] : software ? [128, 256] : [1024, 4096];
  for (const n of sizes) {
    const a = randn(1, n * n), b = randn(2, n * n);
    const ga = up(a), gb = up(b), go = dev.alloc("float32", n * n);
    const mm = () => dev.matmul(go, ga, gb, 1, n, n, n, 0, 0, false, false, false);
    mm();
    const got = await read(go);
    const idx = Array.from({ length: 64 }, (_, i) => Math.floor(((i * 2654435761) >>> 0) % (n * n)));
    verify(`matmul ${n}^3 (64 sampled entries)`, idx.map((i) => got[i]), matmulSamples(a, b, n, n, n, idx), 1e-4);
    const ms = await median(mm, inner);
    line(`matmul ${n}x${n}x${n}`, ms, 2 * n ** 3, n === 4096 ? `  (target >= 15000 GFLOP/s: ${2 * n ** 3 / ms / 1e6 >= 15000 ? "met" : "NOT met"})` : "");
  }

  const [T, H] = opts.smoke ? [64, 4] : software ? [128, 4] : [2048, 8];
  const B = 1, D = 64;
  for (const causal of [false, true]) {
    const d: AttentionDims = { B, H, G: H, T, S: T, D, Dv: D, scale: 1 / 8, causalOffset: causal ? 0 : null, maskStrides: null, biasStrides: null };
    const q = randn(3, B * H * T * D), k = randn(4, B * H * T * D), v = randn(5, B * H * T * D), dout = randn(6, B * H * T * D);
    const gq = up(q), gk = up(k), gv = up(v), gdo = up(dout);
    const gout = dev.alloc("float32", q.length), glse = dev.alloc("float32", B * H * T);
    const fwd = () => dev.attentionForward(gout, glse, null, gq, gk, gv, null, null, d);
    fwd();
    const outGpu = await read(gout);
    if (!causal) {
      const rows = [0, 1, T - 1, T + 7, H * T - 1].filter((r) => r < B * H * T);
      verify(`attention forward T${T} (${rows.length} sampled rows)`, rows.flatMap((r) => Array.from(outGpu.subarray(r * D, (r + 1) * D))), attentionRows(q, k, v, d, rows), 1e-4);
    }
    const flops = 4 * B * H * T * T * D * (causal ? 0.5 : 1);
    const what = `attention fwd ${causal ? "causal" : "non-causal"} B${B} H${H} T${T} D${D}`;
    const fms = await median(fwd, inner);
    line(what, fms, flops, T === 2048 && !causal ? `  (target <= 2 ms: ${fms <= 2 ? "met" : "NOT met"})` : "");
    if (T <= 256) {
      // the full backward against js at sizes the reference can do quickly
      const out = new Float32Array(q.length), lse = new Float32Array(B * H * T);
      jsKernels.attentionForward(out, lse, null, q, k, v, null, null, d);
      const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
      jsKernels.attentionBackward(dq, dk, dv, null, dout, q, k, v, out, lse, null, null, d);
      const gdq = dev.alloc("float32", q.length), gdk = dev.alloc("float32", k.length), gdv = dev.alloc("float32", v.length);
      dev.attentionBackward(gdq, gdk, gdv, null, gdo, gq, gk, gv, gout, glse, null, null, d);
      verify(`attention backward dq/dk/dv T${T}${causal ? " causal" : ""}`, [...(await read(gdq)), ...(await read(gdk)), ...(await read(gdv))], [...dq, ...dk, ...dv], 1e-3);
    }
    const gdq = dev.alloc("float32", q.length), gdk = dev.alloc("float32", k.length), gdv = dev.alloc("float32", v.length);
    const bwd = () => dev.attentionBackward(gdq, gdk, gdv, null, gdo, gq, gk, gv, gout, glse, null, null, d);
    line(`attention bwd ${causal ? "causal" : "non-causal"} B${B} H${H} T${T} D${D}`, await median(bwd, inner), 2.5 * flops);
  }

  // training through the library: the GPT step (first loss checked against js) and the party
  const shape = opts.smoke || software ? TRAIN_SHAPES.smoke : TRAIN_SHAPES.full;
  const r = await benchTrainStep({ backend: "webgpu", smoke: opts.smoke || software, steps: opts.smoke ? 2 : 3, shape });
  console.log(`train step GPT (L${shape.layers} C${shape.dim} T${shape.context} B${shape.batch}, AdamW) on ${r.backend}: median ${r.medianMs.toFixed(1)} ms, ${Math.round(r.tokensPerSec)} tokens/s (first loss within ${r.lossRelDiff.toExponential(1)} of js)`);
  await setBackend("webgpu");
  const party = new PartyTrainer({ steps: 400 });
  await party.trainStepAsync();
  const n = opts.smoke ? 3 : 10, t0 = performance.now();
  for (let i = 0; i < n; i++) await party.trainStepAsync();
  const ms = (performance.now() - t0) / n;
  console.log(`party train step (64 parties of 8 guests, Adam)${" ".repeat(2)} ${ms.toFixed(1).padStart(10)} ms ${(64 / (ms / 1000)).toFixed(0).padStart(10)} parties/s`);
  setBackend("wasm");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run({ smoke: process.argv.includes("--smoke") });
