// Tensors and ops on the webgpu backend in Node (the webgpu package; SwiftShader without a GPU):
// reads, memory, errors, mixing with host tensors, hostile inputs, and the async training and
// decoding paths against the same runs on wasm. No adapter: fails under CI, skips loudly elsewhere.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { getBackend, gpuContext, setBackend, setGpuProvider } from "../../src/backend/select.js";
import { GpuArray } from "../../src/backend/webgpu/index.js";
import { requestNodeGpuDevice } from "../../src/node.js";
import { GPT, gptConfig } from "../../src/nn/gpt.js";
import { scaledDotProductAttention } from "../../src/ops/attention.js";
import { embedding, gather } from "../../src/ops/gather.js";
import { argmax } from "../../src/ops/reduce.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { keep, tidy } from "../../src/ops/memory.js";
import { toHost } from "../../src/ops/place.js";
import { assign } from "../../src/ops/update.js";
import { clipGradNorm, clipGradNormAsync } from "../../src/optim/clip.js";
import { randn, tensor, zeros } from "../../src/tensor/create.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Trainer, TRAIN_DEFAULTS } from "../../src/train/trainer.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";

let skip: string | false = false;
before(async () => {
  try {
    await setBackend("webgpu");
  } catch (e) {
    const msg = `NO WEBGPU ADAPTER: the webgpu ops tests did not run: ${(e as Error).message}`;
    if (process.env.CI) throw new Error(msg);
    console.error(`\n${"!".repeat(80)}\n${msg}\n${"!".repeat(80)}\n`);
    skip = msg;
  }
});
after(() => setBackend("wasm"));

const gpuTest = (name: string, fn: () => Promise<void> | void) => test(name, async (t) => {
  if (skip) return t.skip(skip);
  await setBackend("webgpu");
  await fn();
});
const host = async (t: Tensor) => Array.from(await t.data());

gpuTest("webgpu tensors live on the GPU; sync reads refuse and name the async call", async () => {
  const x = tensor([1, 2, 3]);
  assert.equal(getBackend(), "webgpu");
  assert.equal(x.onHost, false);
  assert.ok(x.storage instanceof GpuArray);
  assert.throws(() => x.toFlatArray(), /use `await t.data\(\)`/);
  assert.throws(() => x.sum().item(), /use `await t.data\(\)`/);
  assert.match(x.toString(), /on the GPU: await t.data\(\)/);
  assert.deepEqual(await host(x.mul(2).add(1)), [3, 5, 7]);
  assert.equal(await x.sum().itemAsync(), 6);
  const h = await toHost(x);
  assert.equal(h.onHost, true);
  assert.deepEqual(h.toFlatArray(), [1, 2, 3]);
});

gpuTest("host tensors are uploaded when a webgpu op reads them; an op never writes into one", async () => {
  const hostX = Tensor.fromArray(Float32Array.of(1, 2, 3), [3], "float32");
  const y = tensor([10, 20, 30]);
  assert.deepEqual(await host(hostX.add(y)), [11, 22, 33]);
  assert.throws(() => assign(hostX, y), /would write into a host tensor/);
  assert.throws(() => zeros([2], { dtype: "float64" }), /float64 is not available on the webgpu backend/);
});

gpuTest("tidy frees every GPU tensor made inside except the result and kept ones; a freed tensor errors", async () => {
  const ctx = gpuContext()!;
  const x = tensor([1, 2, 3, 4]);
  let inner: Tensor | null = null, kept: Tensor | null = null;
  const out = tidy(() => {
    inner = x.mul(3);
    kept = x.add(1);
    keep(kept);
    return { y: inner.exp().sum() };
  });
  assert.equal((inner!.storage as GpuArray).isDestroyed, true);
  assert.equal((kept!.storage as GpuArray).isDestroyed, false);
  assert.equal((out.y.storage as GpuArray).isDestroyed, false);
  assertClose(await out.y.itemAsync(), [3, 6, 9, 12].reduce((s, v) => s + Math.exp(v), 0), { rtol: 1e-5 });
  assert.throws(() => inner!.add(1), /destroyed GpuArray/);
  await ctx.sync();
});

gpuTest("a GPU tensor garbage-collected while encoded work still reads it is freed only after the submit", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const ys: Tensor[] = [];
  for (let i = 0; i < 20; i++) ys.push(tensor(Array.from({ length: 1000 }, (_, j) => j + i)).mul(2)); // the inputs become garbage at once
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5)); // finalizers run here, before anything is submitted
  }
  const last = await ys[19].data();
  assert.equal(last[999], 2 * (999 + 19));
});

gpuTest("tensors larger than WebGPU's default 128 MiB binding work (the device asks for the adapter's limits)", async () => {
  const n = 40_000_000; // 160 MB, about GPT-2's token embedding
  const y = zeros([n]).add(1);
  assert.equal(await y.sum().itemAsync(), n);
  assert.throws(() => gpuContext()!.alloc("float32", 2 ** 31), /exceeds this device's largest storage buffer/);
});

gpuTest("hostile inputs on webgpu: +-1e4 logits, fully masked rows (zeros, zero gradient), odd lengths", async () => {
  const T = 5, S = 7, D = 3;
  const q = randn([1, 2, T, D], new Rng(1), { std: 100, requiresGrad: true });
  const k = randn([1, 2, S, D], new Rng(2), { std: 100, requiresGrad: true });
  const v = randn([1, 2, S, D], new Rng(3), { requiresGrad: true });
  const maskHost = new Uint8Array(T * S).fill(1);
  maskHost.fill(0, 2 * S, 3 * S); // query 2 sees nothing
  const mask = Tensor.fromArray(maskHost, [1, 1, T, S], "bool");
  const out = scaledDotProductAttention(q, k, v, { mask });
  out.sum().backward();
  const o = await out.data(), dq = await q.grad!.data();
  assert.ok(o.every(Number.isFinite) && dq.every(Number.isFinite), "no NaN or Inf");
  for (const h of [0, 1]) for (let j = 0; j < D; j++) {
    assert.equal(o[(h * T + 2) * D + j], 0, "an empty row outputs zeros");
    assert.equal(dq[(h * T + 2) * D + j], 0, "and gets zero gradient");
  }
  const logits = tensor([[1e4, -1e4, 0], [-1e4, -1e4, 1e4]], undefined, { requiresGrad: true });
  const loss = crossEntropy(logits, tensor([0, 1], undefined, { dtype: "int32" }));
  loss.backward();
  assertClose(await loss.itemAsync(), 1e4, { rtol: 1e-6 });
  assert.ok((await logits.grad!.data()).every(Number.isFinite));
});

gpuTest("GPU-resident targets and ids give the same loss as host ones (ignore_index counted on the device)", async () => {
  const logits = randn([6, 5], new Rng(4));
  const targetsHost = Tensor.fromArray(Int32Array.of(0, 4, -100, 2, 1, -100), [6], "int32");
  const targetsGpu = tensor([0, 4, -100, 2, 1, -100], undefined, { dtype: "int32" });
  assertClose(await crossEntropy(logits, targetsGpu).itemAsync(), await crossEntropy(logits, targetsHost).itemAsync(), { rtol: 1e-6 });
  const w = randn([5, 3], new Rng(5));
  const a = await embedding(tensor([4, 0, 2], undefined, { dtype: "int32" }), w).data();
  const b = await embedding(Tensor.fromArray(Int32Array.of(4, 0, 2), [3], "int32"), w).data();
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.throws(() => embedding(Tensor.fromArray(Int32Array.of(5), [1], "int32"), w), /token id 5 at index 0 is out of range \[0, 5\)/);
  // values on the GPU cannot be checked synchronously: an out-of-range target gives NaN, an id a zero row
  assert.ok(Number.isNaN(await crossEntropy(logits, tensor([0, 7, 1, 2, 1, 0], undefined, { dtype: "int32" })).itemAsync()));
  assert.deepEqual(Array.from(await embedding(tensor([9, 1], undefined, { dtype: "int32" }), w).data()).slice(0, 3), [0, 0, 0]);
});

gpuTest("argmax and gather (with its scatter-add gradient) run on the GPU and match wasm", async () => {
  const run = () => {
    const x = randn([3, 6, 2], new Rng(8), { requiresGrad: true });
    const idx = Tensor.fromArray(Int32Array.from({ length: 3 * 4 * 2 }, (_, i) => (i * 5) % 6), [3, 4, 2], "int32");
    const y = gather(x, 1, idx);
    y.mul(y).sum().backward();
    return { y, am: argmax(x, 1), dx: x.grad! };
  };
  const g = run();
  assert.equal(g.y.onHost, false);
  const [y, am, dx] = [await g.y.data(), await g.am.data(), await g.dx.data()];
  setBackend("wasm");
  const h = run();
  assertClose(y, h.y.values, { rtol: 1e-6 }, "gather");
  assert.deepEqual(Array.from(am), Array.from(h.am.values), "argmax");
  assertClose(dx, h.dx.values, { rtol: 1e-5, atol: 1e-7 }, "gather backward");
});

gpuTest("clipGradNormAsync on the GPU matches clipGradNorm on the host; the sync one names the async", async () => {
  const make = () => { const p = randn([7, 3], new Rng(6), { requiresGrad: true }); p.mul(p).mul(5).sum().backward(); return p; };
  const gp = make();
  assert.throws(() => clipGradNorm([gp], 1), /clipGradNormAsync/);
  const gn = await clipGradNormAsync([gp], 1);
  setBackend("wasm");
  const hp = make();
  const hn = clipGradNorm([hp], 1);
  assertClose(gn, hn, { rtol: 1e-5 });
  assertClose(await gp.grad!.data(), hp.grad!.values, { rtol: 1e-5, atol: 1e-7 });
});

/** Three nano-GPT training steps and a greedy decode on `backend`. */
async function gptRun(backend: "wasm" | "webgpu"): Promise<{ losses: number[]; norms: number[]; tokens: number[] }> {
  await setBackend(backend);
  const V = 23;
  const ids = Int32Array.from({ length: 4000 }, (_, i) => (i * 7 + (i >> 3)) % V);
  const model = new GPT(gptConfig({ vocabSize: V, contextLength: 16, numLayers: 2, numHeads: 2, modelDim: 32 }), { rng: new Rng(3) });
  const trainer = new Trainer(model, { train: ids.subarray(0, 3500), val: ids.subarray(3500) }, { ...TRAIN_DEFAULTS, steps: 3, batchSize: 4, warmupSteps: 1, gradAccum: 2 });
  const losses: number[] = [], norms: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = backend === "webgpu" ? await trainer.trainStepAsync() : trainer.trainStep();
    assert.equal(r.skipped, null);
    losses.push(r.loss);
    norms.push(r.gradNorm);
  }
  losses.push((backend === "webgpu" ? await trainer.evaluateAsync() : trainer.evaluate()) as number);
  const tokens: number[] = [];
  const opts = { maxNewTokens: 20, temperature: 0 };
  if (backend === "webgpu") for await (const t of model.generateAsync([1, 2, 3], opts)) tokens.push(t);
  else for (const t of model.generate([1, 2, 3], opts)) tokens.push(t);
  return { losses, norms, tokens };
}

gpuTest("Trainer.trainStepAsync and generateAsync on webgpu follow the same run on wasm", async () => {
  const gpu = await gptRun("webgpu");
  const cpu = await gptRun("wasm");
  assertClose(gpu.losses, cpu.losses, { rtol: 1e-4 }, "losses and validation loss");
  assertClose(gpu.norms, cpu.norms, { rtol: 1e-3 }, "gradient norms");
  assert.deepEqual(gpu.tokens, cpu.tokens, "greedy decoding with a KV cache");
});

test("setBackend('webgpu') without an adapter: a clear error, or the fallback when asked", async () => {
  setGpuProvider(() => Promise.reject(new Error("requestNodeGpuDevice: no WebGPU adapter (test)")));
  try {
    await assert.rejects(setBackend("webgpu"), /no WebGPU adapter \(test\)/);
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (m: string) => warned.push(m);
    try {
      assert.equal(await setBackend("webgpu", { fallback: "wasm" }), "wasm");
    } finally {
      console.warn = warn;
    }
    assert.equal(getBackend(), "wasm");
    assert.match(warned.join("\n"), /no WebGPU .*using the wasm backend/);
  } finally {
    setGpuProvider(() => requestNodeGpuDevice());
  }
});
