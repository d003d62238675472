// Kernel benches of issue #3 (npm run bench -- --filter=kernels [--smoke] [--json] [--case=NAME]
// [--threads=N] [--no-peers]): checks the wasm backend against the js reference on every case first,
// then times medians, with the peers (onnxruntime-web, tfjs-backend-wasm) on the same shapes.
// Also runs directly: node build/bench/kernels.bench.js [same flags].
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { jsKernels } from "../src/backend/js/index.js";
import type { AttentionDims } from "../src/backend/kernels.js";
import { getBackend, setBackend } from "../src/backend/select.js";
import { wasmKernels } from "../src/backend/wasm/index.js";
import { wasmRuntime } from "../src/backend/wasm/runtime.js";
import { Rng, Tensor, noGrad, scaledDotProductAttention } from "../src/index.js";
import { useThreads } from "../src/node.js";
import { onnxruntimeWeb, tfjsWasm, type Peer } from "./peers.js";
import { reversalTask } from "./train.js";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split("=")[1] ?? (argv.includes(`--${name}`) ? "" : undefined);
let smoke = flag("smoke") !== undefined;
const json = flag("json") !== undefined, filter = flag("case") ?? "";
const threads = Number(flag("threads") || 2);
let reps = smoke ? 3 : 7;

/** ms is the median wall time; cpuMs the median CPU time of the whole process (all threads). */
interface Row { case: string; impl: string; ms: number; cpuMs?: number; gflops?: number; note?: string }
const rows: Row[] = [];
const report = (r: Row): void => {
  rows.push(r);
  if (json) console.log(JSON.stringify(r));
  else console.log(`${r.case.padEnd(40)} ${r.impl.padEnd(32)} ${r.ms.toFixed(1).padStart(9)} ms ${r.gflops !== undefined ? r.gflops.toFixed(1).padStart(7) + " GFLOP/s" : "".padStart(15)} ${r.cpuMs !== undefined ? `cpu ${r.cpuMs.toFixed(0).padStart(6)} ms` : "".padStart(13)}  ${r.note ?? ""}`);
};

function randn(seed: number, n: number): Float32Array {
  const r = new Rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.normal();
  return a;
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
function verify(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  const d = maxDiff(got, want);
  if (!(d <= tol)) throw new Error(`bench: ${what} differs from the js reference by ${d} (tolerance ${tol}); not timing it`);
}
let lastCpu = 0;
/** Median wall ms of fn; the median CPU ms (all threads of the process) is left in lastCpu. */
async function median(fn: () => unknown, n = reps): Promise<number> {
  await fn(); // warm-up (JIT, tier-up, memory growth)
  const ts: number[] = [], cs: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  ts.sort((a, b) => a - b);
  cs.sort((a, b) => a - b);
  lastCpu = cs[Math.floor(cs.length / 2)];
  return ts[Math.floor(ts.length / 2)];
}
const want = (name: string): boolean => name.includes(filter);

async function benchMatmul(peers: Peer[]): Promise<void> {
  const n = smoke ? 96 : 1024, check = smoke ? 96 : 256;
  const name = `matmul ${n}^3`;
  if (!want(name)) return;
  {
    const a = randn(1, check * check), b = randn(2, check * check), o1 = new Float32Array(check * check), o2 = new Float32Array(check * check);
    jsKernels.matmul(o1, a, b, 1, check, check, check, 0, 0, false, false, false);
    wasmKernels.matmul(o2, a, b, 1, check, check, check, 0, 0, false, false, false);
    verify(`matmul ${check}^3`, o2, o1, 1e-3);
  }
  const a = randn(1, n * n), b = randn(2, n * n), o = new Float32Array(n * n);
  const flops = 2 * n ** 3;
  const ms = await median(() => wasmKernels.matmul(o, a, b, 1, n, n, n, 0, 0, false, false, false));
  report({ case: name, impl: `qkv wasm ${threads}t`, ms, cpuMs: lastCpu, gflops: flops / ms / 1e6 });
  for (const p of peers) {
    if (!p.matmul) continue;
    const run = await p.matmul(n, a, b);
    verify(`${p.name} matmul`, await run(), o, 1e-2);
    const pms = await median(run);
    report({ case: name, impl: p.name, ms: pms, cpuMs: lastCpu, gflops: flops / pms / 1e6, note: `qkv ${(pms / ms).toFixed(2)}x faster` });
  }
}

function dims(B: number, H: number, T: number, S: number, D: number, causal: boolean): AttentionDims {
  return { B, H, G: H, T, S, D, Dv: D, scale: 1 / Math.sqrt(D), causalOffset: causal ? S - T : null, maskStrides: null, biasStrides: null };
}

async function benchAttention(peers: Peer[], causal: boolean): Promise<void> {
  const B = 1, H = smoke ? 2 : 8, T = smoke ? 128 : 2048, D = 64;
  const name = `attention fwd ${causal ? "causal" : "non-causal"} T=${T}`;
  if (!want(name) && !want("attention")) return;
  {
    const t = smoke ? T : 256, d = dims(1, 2, t, t, D, causal);
    const q = randn(1, 2 * t * D), k = randn(2, 2 * t * D), v = randn(3, 2 * t * D);
    const o1 = new Float32Array(q.length), o2 = new Float32Array(q.length), l1 = new Float32Array(2 * t), l2 = new Float32Array(2 * t);
    jsKernels.attentionForward(o1, l1, null, q, k, v, null, null, d);
    wasmKernels.attentionForward(o2, l2, null, q, k, v, null, null, d);
    verify(`attention T=${t}`, o2, o1, 1e-4);
  }
  const n = B * H * T * D;
  const q = Tensor.fromArray(randn(1, n), [B, H, T, D], "float32"), k = Tensor.fromArray(randn(2, n), [B, H, T, D], "float32"), v = Tensor.fromArray(randn(3, n), [B, H, T, D], "float32");
  const pairs = causal ? (T * (T + 1)) / 2 : T * T;
  const flops = 4 * B * H * pairs * D;
  let ours: Float32Array = new Float32Array(0);
  const ms = await median(() => { ours = noGrad(() => scaledDotProductAttention(q, k, v, { isCausal: causal })).values as Float32Array; });
  report({ case: name, impl: `qkv wasm ${threads}t`, ms, cpuMs: lastCpu, gflops: flops / ms / 1e6 });
  for (const p of peers) {
    const run = await p.attention(B, H, T, T, D, causal, q.values as Float32Array, k.values as Float32Array, v.values as Float32Array);
    verify(`${p.name} attention`, await run(), ours, 1e-3);
    const pms = await median(run, smoke ? 3 : 5);
    report({ case: name, impl: p.name, ms: pms, cpuMs: lastCpu, gflops: flops / pms / 1e6, note: `qkv ${(pms / ms).toFixed(2)}x faster` });
  }
  // forward + backward through autograd, as training runs it
  const qg = Tensor.fromArray(q.values, q.shape, "float32", true), kg = Tensor.fromArray(k.values, k.shape, "float32", true), vg = Tensor.fromArray(v.values, v.shape, "float32", true);
  const dout = Tensor.fromArray(randn(4, n), [B, H, T, D], "float32");
  const fb = await median(() => {
    qg.zeroGrad(); kg.zeroGrad(); vg.zeroGrad();
    scaledDotProductAttention(qg, kg, vg, { isCausal: causal }).backward(dout);
  }, smoke ? 3 : 5);
  report({ case: `attention fwd+bwd ${causal ? "causal" : "non-causal"} T=${T}`, impl: `qkv wasm ${threads}t`, ms: fb, cpuMs: lastCpu, gflops: (flops * 3.5) / fb / 1e6, note: `${(fb / ms).toFixed(2)}x the forward` });
}

/** Runs in a child so that the peak RSS belongs to this case alone. */
async function memoryChild(): Promise<void> {
  const T = Number(flag("T")), H = 8, D = 64, n = H * T * D;
  await useThreads(threads);
  const q = Tensor.fromArray(randn(1, n), [1, H, T, D], "float32"), k = Tensor.fromArray(randn(2, n), [1, H, T, D], "float32"), v = Tensor.fromArray(randn(3, n), [1, H, T, D], "float32");
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = noGrad(() => scaledDotProductAttention(q, k, v, { isCausal: true }));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, growthMB: (peak - before - out.size * 4) / 2 ** 20, finite: Number.isFinite(out.values[n - 1]) }));
}

function benchMemory(): void {
  const T = smoke ? 2048 : 32768;
  const name = `attention fwd causal T=${T} memory`;
  if (!want(name)) return;
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--memory-child", `--T=${T}`, `--threads=${threads}`], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`bench: memory case failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split("\n").pop() as string) as { ms: number; cpuMs: number; growthMB: number; finite: boolean };
  report({ case: name, impl: `qkv wasm ${threads}t`, ms: r.ms, cpuMs: r.cpuMs, gflops: (4 * 8 * ((T * (T + 1)) / 2) * 64) / r.ms / 1e6, note: `peak RSS growth ${r.growthMB.toFixed(0)} MB beyond inputs and output` });
}

function benchTraining(): void {
  const name = "train reversal (16x16, w32, 4 heads)";
  if (!want(name) && !want("train")) return;
  const steps = smoke ? 30 : 300;
  for (const backend of ["wasm", "js"] as const) {
    setBackend(backend);
    const c0 = process.cpuUsage();
    const r = reversalTask(steps);
    const c = process.cpuUsage(c0);
    report({ case: `${name} ${steps} steps`, impl: backend === "wasm" ? `qkv wasm ${threads}t` : "qkv js", ms: r.ms, cpuMs: (c.user + c.system) / 1000, note: `accuracy ${(100 * r.accuracy).toFixed(1)}%, loss ${r.loss.toFixed(4)}` });
  }
  setBackend("wasm");
}

export async function run(opts: { smoke?: boolean } = {}): Promise<void> {
  if (opts.smoke) { smoke = true; reps = 3; }
  const got = await useThreads(threads);
  if (!wasmRuntime() || getBackend() !== "wasm") throw new Error("bench: the wasm backend is not available here");
  if (!json) console.log(`qkv bench: Node ${process.version}, ${availableParallelism()} cores, ${got} threads, relaxed SIMD ${wasmRuntime()?.relaxed}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}${smoke ? ", smoke sizes" : ""}`);
  const peers: Peer[] = [];
  if (flag("no-peers") === undefined) {
    for (const make of [() => onnxruntimeWeb(threads), () => tfjsWasm(threads)]) {
      try { peers.push(await make()); } catch (e) { console.error(`bench: peer unavailable: ${(e as Error).message}`); }
    }
  }
  await benchMatmul(peers);
  await benchAttention(peers, false);
  await benchAttention(peers, true);
  benchMemory();
  benchTraining();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (flag("memory-child") !== undefined) await memoryChild();
  else await run();
  process.exit(0);
}
