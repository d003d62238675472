// WebGPU kernels in Node: the shared parity cases (webgpu-cases.ts: every kernel against js), the
// PyTorch attention fixtures, batching without readback, and scope. The device comes from the
// `webgpu` package (Dawn); without a GPU, from SwiftShader (chromium's CPU Vulkan driver).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionDims } from "../../src/backend/kernels.js";
import { jsKernels } from "../../src/backend/js/index.js";
import { type GpuArray, type GpuContext, type HostArray, webgpuBackend, type WebGpuKernels } from "../../src/backend/webgpu/index.js";
import { requestNodeGpuDevice } from "../../src/node/webgpu.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { loadFixture, type Json } from "../helpers/fixtures.js";
import { TOL } from "../helpers/tolerance.js";
import { bcastStrides, parityCases } from "./webgpu-cases.js";

let ctx: GpuContext | null = null, gk: WebGpuKernels | null = null, skip: string | false = false;
try {
  const gpu = await requestNodeGpuDevice();
  ({ ctx, kernels: gk } = webgpuBackend(gpu.device));
  console.log(`webgpu tests on: ${gpu.adapterName}`);
} catch (e) {
  const msg = `NO WEBGPU ADAPTER: the webgpu parity tests did not run: ${(e as Error).message}`;
  if (process.env.CI) throw new Error(msg); // CI must not pass silently without a GPU
  console.error(`\n${"!".repeat(80)}\n${msg}\n${"!".repeat(80)}\n`);
  skip = msg;
}
const C = () => ctx!, K = () => gk!;

for (const c of parityCases) test(c.name, { skip }, () => c.run(C(), K()));

const rng = new Rng(11);
const rand = (n: number) => Float32Array.from({ length: n }, () => 4 * rng.next() - 2);
const up = (a: HostArray) => C().upload(a);
async function check(g: GpuArray, expected: ArrayLike<number>, tol: { rtol: number; atol: number }, what: string): Promise<void> {
  assertClose(await g.read(), expected, tol, what);
}
const RED = { rtol: 1e-4, atol: 1e-5 };

interface Fx { name: string; q: Json; k: Json; v: Json; dout: Json; causal: boolean; scale: number | null; mask: Json | null; bias: Json | null; out: Json; weights: Json; dq: Json; dk: Json; dv: Json }
const fixtures = loadFixture<{ cases: Fx[] }>("attention.json").cases;

for (const c of fixtures) {
  test(`webgpu attention fixture ${c.name}: out, weights, dq, dk, dv match PyTorch`, { skip }, async () => {
    const [B, H, T, D] = c.q.shape, [, G, S] = c.k.shape, Dv = c.v.shape[3];
    const f32 = (j: Json) => Float32Array.from(j.data.map(Number));
    const d: AttentionDims = {
      B, H, G, T, S, D, Dv, scale: c.scale ?? 1 / Math.sqrt(D), causalOffset: c.causal ? S - T : null,
      maskStrides: c.mask ? bcastStrides(c.mask.shape) : null, biasStrides: c.bias ? bcastStrides(c.bias.shape) : null,
    };
    const go = C().zeros("float32", B * H * T * Dv), gl = C().zeros("float32", B * H * T), gw = C().zeros("float32", B * H * T * S);
    const gq = up(f32(c.q)), gk2 = up(f32(c.k)), gv = up(f32(c.v));
    const gm = c.mask ? up(Uint8Array.from(c.mask.data.map(Number))) : null, gb = c.bias ? up(f32(c.bias)) : null;
    K().attentionForward(go, gl, gw, gq, gk2, gv, gm, gb, d);
    await check(go, c.out.data as number[], TOL.fixture, "out");
    await check(gw, c.weights.data as number[], TOL.fixture, "weights");
    const gdq = C().zeros("float32", gq.length), gdk = C().zeros("float32", gk2.length), gdv = C().zeros("float32", gv.length);
    K().attentionBackward(gdq, gdk, gdv, null, up(f32(c.dout)), gq, gk2, gv, go, gl, gm, gb, d);
    await check(gdq, c.dq.data as number[], TOL.fixture, "dq");
    await check(gdk, c.dk.data as number[], TOL.fixture, "dk");
    await check(gdv, c.dv.data as number[], TOL.fixture, "dv");
  });
}

test("webgpu kernels chain without readback: matmul -> gelu -> softmax is one submit", { skip }, async () => {
  const M = 17, Kd = 23, N = 29, a = rand(M * Kd), b = rand(Kd * N);
  const h = new Float32Array(M * N), y = new Float32Array(M * N);
  jsKernels.matmul(h, a, b, 1, M, Kd, N, 0, 0, false, false, false);
  jsKernels.unary("gelu", h, h.slice(), M * N);
  jsKernels.softmaxForward(y, h, M, N);
  const ga = up(a), gb = up(b);
  await C().sync();
  const before = C().submits;
  const gh = C().zeros("float32", M * N), gh2 = C().zeros("float32", M * N), gy = C().zeros("float32", M * N);
  K().matmul(gh, ga, gb, 1, M, Kd, N, 0, 0, false, false, false);
  K().unary("gelu", gh2, gh, M * N);
  K().softmaxForward(gy, gh2, M, N);
  assert.equal(C().submits, before, "kernels must only encode, not submit");
  await check(gy, y, RED, "chained result");
  assert.equal(C().submits, before + 1, "one submit for the chain and its read");
  gh.destroy();
  await assert.rejects(async () => K().unary("exp", gh2, gh, M * N), /destroyed/);
});

test("webgpu scope destroys what a tight loop allocated, except what it returns", { skip }, async () => {
  const x = up(rand(100));
  let inner: GpuArray | null = null;
  const kept = C().scope(() => {
    inner = C().zeros("float32", 100);
    K().unary("exp", inner, x, 100);
    const y = C().zeros("float32", 100);
    K().unary("log", y, inner, 100);
    return y;
  });
  assert.equal(inner!.isDestroyed, true);
  assert.equal(kept.isDestroyed, false);
  assertClose(await kept.read(), await x.read(), RED, "log(exp(x)) through a scope");
});
