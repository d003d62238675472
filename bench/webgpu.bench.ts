// WebGPU kernel bench (issue #7, first layer): npm run bench -- --filter=webgpu [--smoke].
// On whatever adapter requestNodeGpuDevice finds (SwiftShader on a machine without a GPU), checks
// matmul and attention against the js reference on the same inputs first, then times medians of
// encode + submit + wait (no readback), in GFLOP/s. Also runs directly: node build/bench/webgpu.bench.js
import { fileURLToPath } from "node:url";
import { jsKernels } from "../src/backend/js/index.js";
import type { AttentionDims } from "../src/backend/kernels.js";
import { webgpuBackend } from "../src/backend/webgpu/index.js";
import { requestNodeGpuDevice } from "../src/node.js";
import { Rng } from "../src/util/random.js";

function randn(seed: number, n: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

function verify(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  if (!(m <= tol)) throw new Error(`bench: webgpu ${what} differs from the js reference by ${m} (tolerance ${tol}); not timing it`);
}

export async function run(opts: { smoke: boolean }): Promise<void> {
  let gpu;
  try {
    gpu = await requestNodeGpuDevice();
  } catch (e) {
    console.log(`!! webgpu bench NOT RUN: ${(e as Error).message}`);
    return;
  }
  const { ctx, kernels: K } = webgpuBackend(gpu.device);
  console.log(`adapter: ${gpu.adapterName}`);
  const reps = opts.smoke ? 2 : 5;
  const median = async (fn: () => void): Promise<number> => {
    fn();
    await ctx.sync(); // warm-up compiles the pipeline
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      fn();
      await ctx.sync();
      ts.push(performance.now() - t0);
    }
    return ts.sort((a, b) => a - b)[reps >> 1];
  };
  const line = (name: string, ms: number, flops: number) =>
    console.log(`${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms ${(flops / ms / 1e6).toFixed(2).padStart(8)} GFLOP/s`);

  for (const n of opts.smoke ? [128] : [128, 256]) {
    const a = randn(1, n * n), b = randn(2, n * n), want = new Float32Array(n * n);
    jsKernels.matmul(want, a, b, 1, n, n, n, 0, 0, false, false, false);
    const ga = ctx.upload(a), gb = ctx.upload(b), go = ctx.zeros("float32", n * n);
    const mm = () => K.matmul(go, ga, gb, 1, n, n, n, 0, 0, false, false, false);
    mm();
    verify(`matmul ${n}`, await go.read(), want, 1e-4);
    line(`matmul ${n}x${n}x${n}`, await median(mm), 2 * n ** 3);
  }

  const T = opts.smoke ? 64 : 128, B = 1, H = 4, G = 4, D = 64;
  const d: AttentionDims = { B, H, G, T, S: T, D, Dv: D, scale: 1 / 8, causalOffset: 0, maskStrides: null, biasStrides: null };
  const q = randn(3, B * H * T * D), k = randn(4, B * G * T * D), v = randn(5, B * G * T * D), dout = randn(6, B * H * T * D);
  const out = new Float32Array(q.length), lse = new Float32Array(B * H * T);
  jsKernels.attentionForward(out, lse, null, q, k, v, null, null, d);
  const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gdo = ctx.upload(dout);
  const gout = ctx.zeros("float32", out.length), glse = ctx.zeros("float32", lse.length);
  const fwd = () => K.attentionForward(gout, glse, null, gq, gk, gv, null, null, d);
  fwd();
  verify("attention forward", await gout.read(), out, 1e-4);
  const flops = (4 * B * H * T * T * D) / 2; // two matmuls, causal half
  line(`attention fwd causal B${B} H${H} T${T} D${D}`, await median(fwd), flops);
  const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
  jsKernels.attentionBackward(dq, dk, dv, null, dout, q, k, v, out, lse, null, null, d);
  const gdq = ctx.zeros("float32", q.length), gdk = ctx.zeros("float32", k.length), gdv = ctx.zeros("float32", v.length);
  K.attentionBackward(gdq, gdk, gdv, null, gdo, gq, gk, gv, gout, glse, null, null, d);
  verify("attention backward dq", await gdq.read(), dq, 1e-4);
  verify("attention backward dk", await gdk.read(), dk, 1e-4);
  const bwd = () => K.attentionBackward(gdq, gdk, gdv, null, gdo, gq, gk, gv, gout, glse, null, null, d);
  line(`attention bwd causal B${B} H${H} T${T} D${D}`, await median(bwd), 2.5 * flops);
  gpu.device.destroy();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run({ smoke: process.argv.includes("--smoke") });
