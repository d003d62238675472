// Every kernel of the wasm backend against the js reference on odd shapes (tails not divisible by
// 4, 6, 8 or the tile sizes), first on one thread, then with a pool where every call is split.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { jsKernels } from "../../src/backend/js/index.js";
import type { AttentionDims, KernelName, Kernels } from "../../src/backend/kernels.js";
import { setAttentionChunkLimit } from "../../src/backend/wasm/attention.js";
import { wasmKernels } from "../../src/backend/wasm/index.js";
import { setParallelThreshold, wasmCallCount, wasmRuntime } from "../../src/backend/wasm/runtime.js";
import { stopThreads, useThreads } from "../../src/node.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";

const TOL = { rtol: 2e-5, atol: 2e-6 };

/** One case: builds fresh operands from a seed, runs a kernel set, returns every output buffer. */
interface Case {
  what: string;
  /** false when this case is meant to take the js fallback inside the wasm backend. */
  wasm: boolean;
  run(k: Kernels): ArrayLike<number>[];
  tol?: { rtol: number; atol: number };
}

function randn(seed: number, n: number, scale = 1): Float32Array {
  const r = new Rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.next() * 2 - 1) * scale;
  return a;
}
function ints(seed: number, n: number, hi: number): Int32Array {
  const r = new Rng(seed), a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(r.next() * hi);
  return a;
}

const UNARY = ["neg", "exp", "log", "sqrt", "tanh", "relu", "gelu", "silu", "abs", "sigmoid"] as const;
const WASM_UNARY = new Set(["exp", "tanh", "gelu", "silu", "sigmoid"]);

/** The same cases with the wasm side cut into one call per (batch, kv group), as for long sequences. */
function chunked(cs: Case[]): Case[] {
  return cs.map((c) => ({ ...c, what: `${c.what}, per-group chunks`, run: (k: Kernels) => {
    setAttentionChunkLimit(0);
    try { return c.run(k); } finally { setAttentionChunkLimit(1 << 22); }
  } }));
}

function attentionCases(backward: boolean): Case[] {
  const shapes: [string, Partial<AttentionDims> & { B: number; H: number; G: number; T: number; S: number; D: number; Dv: number }, "none" | "mask" | "bias" | "causal" | "empty"][] = [
    ["plain odd", { B: 2, H: 3, G: 3, T: 53, S: 71, D: 13, Dv: 11 }, "none"],
    ["causal T<S, GQA", { B: 1, H: 4, G: 2, T: 37, S: 130, D: 16, Dv: 16 }, "causal"],
    ["causal T>S (empty rows)", { B: 1, H: 2, G: 1, T: 75, S: 50, D: 8, Dv: 12 }, "causal"],
    ["bool mask broadcast over heads", { B: 2, H: 2, G: 1, T: 49, S: 66, D: 10, Dv: 9 }, "mask"],
    ["additive bias", { B: 1, H: 3, G: 3, T: 40, S: 97, D: 12, Dv: 7 }, "bias"],
    ["mask with all-false rows", { B: 1, H: 2, G: 2, T: 50, S: 70, D: 9, Dv: 9 }, "empty"],
  ];
  return shapes.map(([what, s, kind]) => ({
    what: `${backward ? "backward" : "forward"} ${what}`,
    wasm: true,
    tol: { rtol: 1e-4, atol: 1e-5 },
    run(k: Kernels) {
      const { B, H, G, T, S, D, Dv } = s;
      const q = randn(1, B * H * T * D), kk = randn(2, B * G * S * D), v = randn(3, B * G * S * Dv);
      let mask: Uint8Array | null = null, bias: Float32Array | null = null, maskStrides: number[] | null = null, biasStrides: number[] | null = null;
      if (kind === "mask" || kind === "empty") {
        // (B, 1, T, S) broadcast over heads
        mask = new Uint8Array(B * T * S);
        const r = new Rng(4);
        for (let i = 0; i < mask.length; i++) mask[i] = r.next() < 0.7 ? 1 : 0;
        if (kind === "empty") for (let t = 3; t < T; t += 7) mask.fill(0, t * S, (t + 1) * S);
        maskStrides = [T * S, 0, S, 1];
      }
      if (kind === "bias") {
        bias = randn(5, H * T * S, 2); // (H, T, S) broadcast over batch
        biasStrides = [0, T * S, S, 1];
      }
      const d: AttentionDims = { B, H, G, T, S, D, Dv, scale: 1 / Math.sqrt(D), causalOffset: kind === "causal" ? S - T : null, maskStrides, biasStrides };
      const out = new Float32Array(B * H * T * Dv), lse = new Float32Array(B * H * T);
      jsKernels.attentionForward(out, lse, null, q, kk, v, mask, bias, d);
      if (!backward) {
        const o2 = new Float32Array(out.length), l2 = new Float32Array(lse.length);
        k.attentionForward(o2, l2, null, q, kk, v, mask, bias, d);
        return [o2, l2];
      }
      const dout = randn(6, out.length);
      const dq = randn(7, q.length), dk = randn(8, kk.length), dv = randn(9, v.length); // backward accumulates
      const dbias = bias ? randn(10, B * H * T * S) : null;
      k.attentionBackward(dq, dk, dv, dbias, dout, q, kk, v, out, lse, mask, bias, d);
      return dbias ? [dq, dk, dv, dbias] : [dq, dk, dv];
    },
  }));
}

const cases: Record<KernelName, Case[]> = {
  unary: UNARY.map((op) => ({
    what: op, wasm: WASM_UNARY.has(op),
    run: (k) => { const x = randn(1, 4099, 6); if (op === "log" || op === "sqrt") x.forEach((v, i) => { x[i] = Math.abs(v) + 1e-3; }); const o = new Float32Array(x.length); k.unary(op, o, x, x.length); return [o]; },
  })),
  unaryBackward: UNARY.map((op) => ({
    what: op, wasm: WASM_UNARY.has(op),
    run: (k) => {
      const x = randn(1, 4099, 6);
      if (op === "log" || op === "sqrt") x.forEach((v, i) => { x[i] = Math.abs(v) + 1e-3; });
      const y = new Float32Array(x.length);
      jsKernels.unary(op, y, x, x.length);
      const dx = randn(2, x.length), dy = randn(3, x.length);
      k.unaryBackward(op, dx, x, y, dy, x.length);
      return [dx];
    },
  })),
  binary: (["add", "sub", "mul", "div", "maximum", "eq"] as const).flatMap((op) => [
    { what: `${op} contiguous`, wasm: false, run: (k: Kernels) => { const a = randn(1, 1001), b = randn(2, 1001), o = new Float32Array(1001); k.binary(op, o, a, b, [7, 11, 13], [143, 13, 1], [143, 13, 1]); return [o]; } },
    { what: `${op} scalar`, wasm: false, run: (k: Kernels) => { const a = randn(1, 1001), b = randn(2, 1), o = new Float32Array(1001); k.binary(op, o, a, b, [7, 11, 13], [143, 13, 1], [0, 0, 0]); return [o]; } },
    { what: `${op} trailing-plane broadcast`, wasm: false, run: (k: Kernels) => { const a = randn(1, 1001), b = randn(2, 143), o = new Float32Array(1001); k.binary(op, o, a, b, [7, 11, 13], [143, 13, 1], [0, 13, 1]); return [o]; } },
    { what: `${op} column broadcast`, wasm: false, run: (k: Kernels) => { const a = randn(1, 1001), b = randn(2, 77), o = new Float32Array(1001); k.binary(op, o, a, b, [7, 11, 13], [143, 13, 1], [11, 1, 0]); return [o]; } },
    { what: `${op} row broadcast`, wasm: false, run: (k: Kernels) => { const a = randn(1, 1001), b = randn(2, 13), o = new Float32Array(1001); k.binary(op, o, a, b, [7, 11, 13], [143, 13, 1], [0, 0, 1]); return [o]; } },
  ]),
  where: [{ what: "broadcast", wasm: false, run: (k) => { const c = new Uint8Array(77).map((_, i) => i % 3 & 1), a = randn(1, 77), b = randn(2, 7), o = new Float32Array(77); k.where(o, c, a, b, [11, 7], [7, 1], [7, 1], [0, 1]); return [o]; } }],
  copyStrided: [true, false].flatMap((acc) => [
    { what: `transpose accumulate=${acc}`, wasm: false, run: (k: Kernels) => { const x = randn(1, 35), o = randn(2, 35); k.copyStrided(o, 0, [5, 1], x, 0, [1, 7], [7, 5], acc); return [o]; } },
    { what: `offset slice rank 3 accumulate=${acc}`, wasm: false, run: (k: Kernels) => { const x = randn(1, 3 * 4 * 5), o = randn(2, 100); k.copyStrided(o, 7, [20, 5, 1], x, 2, [20, 1, 4], [3, 5, 3], acc); return [o]; } },
    { what: `broadcast accumulate=${acc}`, wasm: false, run: (k: Kernels) => { const x = randn(1, 6), o = randn(2, 24); k.copyStrided(o, 0, [6, 1], x, 0, [0, 1], [4, 6], acc); return [o]; } },
  ]),
  cast: [
    { what: "float32 to int32, bool and float64", wasm: false, run: (k) => { const x = randn(1, 37, 3); x[3] = 0; const i = new Int32Array(37), b = new Uint8Array(37), d = new Float64Array(37); k.cast(i, x, 37); k.cast(b, x, 37); k.cast(d, x, 37); return [i, b, d]; } },
    { what: "int32 and bool to float32", wasm: false, run: (k) => { const i = Int32Array.from({ length: 21 }, (_, j) => j - 10), b = Uint8Array.from({ length: 21 }, (_, j) => j % 3 === 0 ? 1 : 0), o = new Float32Array(21), p = new Float32Array(21); k.cast(o, i, 21); k.cast(p, b, 21); return [o, p]; } },
  ],
  argmax: [{ what: "middle axis with ties", wasm: false, run: (k) => { const x = randn(1, 3 * 17 * 5); x[5 * 4] = x[5 * 9] = 9; const o = new Int32Array(15); k.argmax(o, x, 3, 17, 5); return [Float32Array.from(o)]; } }],
  gatherForward: [{ what: "middle axis", wasm: false, run: (k) => { const x = randn(1, 3 * 7 * 4), idx = Int32Array.from({ length: 3 * 5 * 4 }, (_, i) => (i * 5) % 7), o = new Float32Array(60); k.gatherForward(o, x, idx, 3, 7, 5, 4); return [o]; } }],
  gatherBackward: [{ what: "middle axis, repeated indices", wasm: false, run: (k) => { const g = randn(1, 3 * 5 * 4), idx = Int32Array.from({ length: 60 }, (_, i) => (i * 3) % 7), dx = randn(2, 3 * 7 * 4); k.gatherBackward(dx, g, idx, 3, 7, 5, 4); return [dx]; } }],
  reduce: [{ what: "sum middle axis", wasm: false, run: (k) => { const x = randn(1, 3 * 17 * 5), o = new Float32Array(15); k.reduce("sum", o, x, 3, 17, 5); return [o]; } }],
  matmul: ([[1, 37, 29, 43], [3, 61, 70, 33], [2, 7, 300, 9], [1, 100, 1, 53], [1, 130, 50, 1]] as const).flatMap(([batch, M, K, N]) =>
    [[false, false], [true, false], [false, true], [true, true]].flatMap(([tA, tB]) => [false, true].map((acc): Case => ({
      what: `${batch}x${M}x${K}x${N} transA=${tA} transB=${tB} accumulate=${acc}`, wasm: true,
      // sums of K products: the wasm kernel adds depth blocks of 256 in a different order
      tol: { rtol: 2e-5, atol: 1e-6 * Math.sqrt(K) * 4 },
      run: (k: Kernels) => { const a = randn(1, batch * M * K), b = randn(2, batch * K * N), o = randn(3, batch * M * N); k.matmul(o, a, b, batch, M, K, N, M * K, K * N, tA, tB, acc); return [o]; },
    })))).concat([{
      what: "broadcast B (bStride 0)", wasm: true,
      run: (k: Kernels) => { const a = randn(1, 3 * 25 * 19), b = randn(2, 19 * 27), o = new Float32Array(3 * 25 * 27); k.matmul(o, a, b, 3, 25, 19, 27, 25 * 19, 0, false, false, false); return [o]; },
    }]),
  softmaxForward: [[67, 33], [5, 1023], [300, 5]].map(([N, C]) => ({ what: `${N}x${C}`, wasm: true, run: (k) => { const x = randn(1, N * C, 10); x[7] = -Infinity; const o = new Float32Array(N * C); k.softmaxForward(o, x, N, C); return [o]; } })),
  softmaxBackward: [[67, 33], [5, 1023]].map(([N, C]) => ({ what: `${N}x${C}`, wasm: true, run: (k) => { const y = new Float32Array(N * C); jsKernels.softmaxForward(y, randn(1, N * C, 3), N, C); const dx = randn(2, N * C), dy = randn(3, N * C); k.softmaxBackward(dx, y, dy, N, C); return [dx]; } })),
  logSoftmaxForward: [[67, 33], [5, 1023]].map(([N, C]) => ({ what: `${N}x${C}`, wasm: true, run: (k) => { const x = randn(1, N * C, 10), o = new Float32Array(N * C); k.logSoftmaxForward(o, x, N, C); return [o]; } })),
  logSoftmaxBackward: [[67, 33], [5, 1023]].map(([N, C]) => ({ what: `${N}x${C}`, wasm: true, run: (k) => { const y = new Float32Array(N * C); jsKernels.logSoftmaxForward(y, randn(1, N * C, 3), N, C); const dx = randn(2, N * C), dy = randn(3, N * C); k.logSoftmaxBackward(dx, y, dy, N, C); return [dx]; } })),
  layerNormForward: [true, false].map((affine) => ({
    what: `67x37 affine=${affine}`, wasm: true,
    run: (k) => { const N = 67, C = 37; const x = randn(1, N * C, 3), w = affine ? randn(2, C) : null, b = affine ? randn(3, C) : null; const o = new Float32Array(N * C), m = new Float32Array(N), r = new Float32Array(N); k.layerNormForward(o, m, r, x, w, b, N, C, 1e-5); return [o, m, r]; },
  })),
  layerNormBackward: [true, false].map((affine) => ({
    what: `67x37 affine=${affine}`, wasm: true,
    run: (k) => {
      const N = 67, C = 37; const x = randn(1, N * C, 3), w = affine ? randn(2, C) : null;
      const o = new Float32Array(N * C), m = new Float32Array(N), r = new Float32Array(N);
      jsKernels.layerNormForward(o, m, r, x, w, null, N, C, 1e-5);
      const dx = randn(4, N * C), dout = randn(5, N * C), dw = affine ? randn(6, C) : null, db = affine ? randn(7, C) : null;
      k.layerNormBackward(dx, dw, db, dout, x, m, r, w, N, C);
      return [dx, ...(dw && db ? [dw, db] : [])];
    },
  })),
  crossEntropyForward: [{ what: "61x37 with ignored rows", wasm: true, run: (k) => { const N = 61, V = 37; const x = randn(1, N * V, 5), t = ints(2, N, V); t[3] = -100; const l = new Float32Array(N); k.crossEntropyForward(l, x, t, N, V, -100); return [l]; } }],
  crossEntropyBackward: [{ what: "61x37 with ignored rows", wasm: true, run: (k) => { const N = 61, V = 37; const x = randn(1, N * V, 5), t = ints(2, N, V); t[3] = -100; const dl = randn(3, N), dx = randn(4, N * V); k.crossEntropyBackward(dx, dl, x, t, N, V, -100); return [dx]; } }],
  embeddingForward: [{ what: "gather", wasm: false, run: (k) => { const w = randn(1, 50 * 7), ids = ints(2, 13, 50), o = new Float32Array(13 * 7); k.embeddingForward(o, w, ids, 13, 7); return [o]; } }],
  embeddingBackward: [{ what: "repeated ids, C=67", wasm: true, run: (k) => { const N = 97, C = 67; const dw = randn(1, 40 * C), dout = randn(2, N * C), ids = ints(3, N, 40); k.embeddingBackward(dw, dout, ids, N, C); return [dw]; } }],
  attentionForward: [...attentionCases(false), ...chunked(attentionCases(false))],
  attentionBackward: [...attentionCases(true), ...chunked(attentionCases(true))],
  adamUpdate: [false, true].map((decoupled) => ({
    what: decoupled ? "AdamW" : "Adam with L2", wasm: true,
    run: (k) => { const n = 1031; const p = randn(1, n), g = randn(2, n), m = randn(3, n, 0.1), v = randn(4, n, 0.1).map(Math.abs); k.adamUpdate(p, g, m, v, n, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3, decoupled }); return [p, m, v]; },
  })),
};

test("parity: every kernel of the js backend has parity cases", () => {
  for (const name of Object.keys(jsKernels)) assert.ok((cases[name as KernelName] ?? []).length > 0, `no parity case for ${name}`);
});

function runAll(label: string): void {
  for (const name of Object.keys(jsKernels) as KernelName[]) {
    test(`parity ${label}: ${name}`, () => {
      for (const c of cases[name]) {
        const expected = c.run(jsKernels);
        const before = wasmCallCount();
        const actual = c.run(wasmKernels);
        assert.equal(wasmCallCount() > before, c.wasm, `${name} ${c.what}: wasm path ${c.wasm ? "not taken" : "taken unexpectedly"}`);
        actual.forEach((a, i) => assertClose(a, expected[i], c.tol ?? TOL, `${name} ${c.what} output ${i}`));
      }
    });
  }
}

assert.ok(wasmRuntime(), "this Node has WebAssembly SIMD");
runAll("1 thread");
test("parity: thread pool starts", async () => {
  assert.equal(await useThreads(3), 3);
  setParallelThreshold(0);
});
runAll("3 threads");
after(async () => {
  setParallelThreshold(1 << 22);
  await stopThreads();
});
