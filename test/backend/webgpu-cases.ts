// The WebGPU parity cases: every kernel against the js reference kernels (the spec) on odd shapes
// whose tails are not multiples of the 64-thread workgroups. Browser-safe (no node: imports), so
// the same cases run in Node (webgpu.test.ts) and in headless Chromium (webgpu-browser.test.ts).
// Tolerance: float32 on the GPU against float64 arithmetic in the reference (stored as float32);
// GPU exp/log/tanh are not correctly rounded (SwiftShader: exp 7e-7, tanh 2e-4 relative near 0),
// so forward elementwise checks use rtol 1e-5 and the rest rtol 1e-4 with atol 1e-5.
import type { AttentionDims, BinaryOp, UnaryOp } from "../../src/backend/kernels.js";
import { jsKernels } from "../../src/backend/js/index.js";
import type { GpuArray, GpuContext, HostArray, WebGpuKernels } from "../../src/backend/webgpu/index.js";
import { embeddingBackwardAtomic } from "../../src/backend/webgpu/rows.js";
import { Rng } from "../../src/util/random.js";

export interface ParityCase {
  name: string;
  run(ctx: GpuContext, kernels: WebGpuKernels): Promise<void>;
}
export const parityCases: ParityCase[] = [];

let cur: { ctx: GpuContext; k: WebGpuKernels } | null = null;
const C = () => cur!.ctx, K = () => cur!.k;
function add(name: string, body: () => Promise<void>): void {
  parityCases.push({ name, run: async (ctx, k) => { cur = { ctx, k }; await body(); } });
}

/** |a - e| <= atol + rtol |e| everywhere (NaN only against NaN); throws naming the first mismatch. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { rtol: number; atol: number }, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e) || a === e || (Number.isNaN(a) && Number.isNaN(e));
    if (!ok) throw new Error(`${what}: mismatch at index ${i}: got ${a}, expected ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

function throws(fn: () => unknown, re: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    if (re.test((e as Error).message)) return;
    throw new Error(`${what}: threw ${(e as Error).message}, expected ${re}`);
  }
  throw new Error(`${what}: did not throw`);
}

const rng = new Rng(7);
const rand = (n: number, lo = -2, hi = 2) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
const up = (a: HostArray) => C().upload(a);
async function check(g: GpuArray, expected: ArrayLike<number>, tol: { rtol: number; atol: number }, what: string): Promise<void> {
  close(await g.read(), expected, tol, what);
}
const EW = { rtol: 1e-5, atol: 1e-6 }, RED = { rtol: 1e-4, atol: 1e-5 };

const UNARY: UnaryOp[] = ["neg", "exp", "log", "sqrt", "tanh", "relu", "gelu", "silu", "abs", "sigmoid"];

add("webgpu unary and unaryBackward match js for every op (n = 1000, not a multiple of 64)", async () => {
  const n = 1000;
  for (const op of UNARY) {
    const x = op === "log" || op === "sqrt" ? rand(n, 0.1, 5) : rand(n, -6, 6);
    const y = new Float32Array(n), dy = rand(n), dx = rand(n);
    jsKernels.unary(op, y, x, n);
    const gy = C().zeros("float32", n), gx = up(x);
    K().unary(op, gy, gx, n);
    await check(gy, y, EW, `unary ${op}`);
    const gdx = up(dx);
    jsKernels.unaryBackward(op, dx, x, y, dy, n);
    K().unaryBackward(op, gdx, gx, gy, up(dy), n);
    await check(gdx, dx, RED, `unaryBackward ${op} (accumulates)`); // gelu's derivative cancels: tanh error shows at ~3e-5
  }
});

const BINARY: BinaryOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "lt", "gt"];

add("webgpu binary matches js with broadcasting strides, bool outputs for comparisons", async () => {
  const shape = [3, 5, 7];
  const a = rand(105, 0.2, 3), b = Float32Array.from({ length: 5 }, (_, i) => [0.5, -2, 3, 1.5, -1][i]); // b: (5, 1)
  a[3] = b[0]; // one equal pair for eq
  for (const op of BINARY) {
    const cmp = op === "eq" || op === "lt" || op === "gt";
    const out = cmp ? new Uint8Array(105) : new Float32Array(105);
    jsKernels.binary(op, out, a, b, shape, [35, 7, 1], [0, 1, 0]);
    const g = C().zeros(cmp ? "bool" : "float32", 105);
    K().binary(op, g, up(a), up(b), shape, [35, 7, 1], [0, 1, 0]);
    await check(g, out, op === "pow" ? { rtol: 1e-5, atol: 1e-6 } : EW, `binary ${op}`);
  }
  // pow of negative bases with integer exponents keeps the sign, as Math.pow
  const na = Float32Array.from([-2, -1.5, -3, 2]), nb = Float32Array.from([3, 2, -1, 0.5]), out = new Float32Array(4);
  jsKernels.binary("pow", out, na, nb, [4], [1], [1]);
  const g = C().zeros("float32", 4);
  K().binary("pow", g, up(na), up(nb), [4], [1], [1]);
  await check(g, out, EW, "pow with negative bases");
  // int32 operands (e.g. token ids) compared into bools
  const ia = Int32Array.from([1, 5, -3, 7]), ib = Int32Array.from([1, 4, -3, 9]), io = new Uint8Array(4);
  jsKernels.binary("eq", io, ia, ib, [4], [1], [1]);
  const gi = C().zeros("bool", 4);
  K().binary("eq", gi, up(ia), up(ib), [4], [1], [1]);
  close(await gi.read(), io, EW, "int32 eq");
});

add("webgpu where and copyStrided match js (broadcast cond, transposed and offset copies, accumulate)", async () => {
  const shape = [4, 3, 5];
  const cond = Uint8Array.from({ length: 15 }, (_, i) => (i * 5) % 3 === 0 ? 1 : 0), a = rand(60), b = rand(3);
  const out = new Float32Array(60), g = C().zeros("float32", 60);
  jsKernels.where(out, cond, a, b, shape, [0, 5, 1], [15, 5, 1], [0, 1, 0]);
  K().where(g, up(cond), up(a), up(b), shape, [0, 5, 1], [15, 5, 1], [0, 1, 0]);
  await check(g, out, EW, "where");
  // a transposed read of x (3, 4, 5) into an offset window of a bigger out, then += the same again
  const x = rand(60), dst = rand(70), gd = up(dst), gx = up(x);
  for (const accumulate of [false, true]) {
    jsKernels.copyStrided(dst, 7, [15, 5, 1], x, 0, [5, 20, 1], shape, accumulate);
    K().copyStrided(gd, 7, [15, 5, 1], gx, 0, [5, 20, 1], shape, accumulate);
    await check(gd, dst, EW, `copyStrided accumulate=${accumulate}`);
  }
  throws(() => K().copyStrided(gd, 0, [0, 1], gx, 0, [5, 1], [2, 5], true), /repeat positions/, "copyStrided into repeated positions");
});

add("webgpu cast matches js between float32, int32 and bool (n = 77)", async () => {
  const x = rand(77, -5, 5);
  x[4] = 0;
  x[5] = -0.5;
  const i = Int32Array.from({ length: 77 }, (_, j) => j - 30), b = Uint8Array.from({ length: 77 }, (_, j) => (j % 3 === 0 ? 1 : 0));
  const pairs: [HostArray, HostArray][] = [[x, new Int32Array(77)], [x, new Uint8Array(77)], [i, new Float32Array(77)], [i, new Uint8Array(77)], [b, new Float32Array(77)], [b, new Int32Array(77)]];
  for (const [src, dst] of pairs) {
    jsKernels.cast(dst, src, 77);
    const g = C().zeros(dst instanceof Float32Array ? "float32" : dst instanceof Int32Array ? "int32" : "bool", 77);
    K().cast(g, up(src), 77);
    await check(g, dst, EW, `cast ${src.constructor.name} -> ${dst.constructor.name}`);
  }
});

add("webgpu argmax, gatherForward and gatherBackward match js over the middle axis of (3, 37, 5)", async () => {
  const outer = 3, n = 37, inner = 5, m = 11;
  const x = rand(outer * n * inner);
  x[5 * 3] = x[5 * 20] = 9; // a tie: the first index wins
  const am = new Int32Array(outer * inner), gam = C().zeros("int32", outer * inner);
  jsKernels.argmax(am, x, outer, n, inner);
  K().argmax(gam, up(x), outer, n, inner);
  await check(gam, am, EW, "argmax");
  const idx = Int32Array.from({ length: outer * m * inner }, (_, i) => (i * 7) % n);
  const out = new Float32Array(outer * m * inner), gout = C().zeros("float32", out.length), gidx = up(idx);
  jsKernels.gatherForward(out, x, idx, outer, n, m, inner);
  K().gatherForward(gout, up(x), gidx, outer, n, m, inner);
  await check(gout, out, EW, "gatherForward");
  const dout = rand(out.length), dx = rand(x.length), gdx = up(dx); // backward accumulates
  jsKernels.gatherBackward(dx, dout, idx, outer, n, m, inner);
  K().gatherBackward(gdx, up(dout), gidx, outer, n, m, inner);
  await check(gdx, dx, RED, "gatherBackward");
});

add("webgpu reduce sum and max over the middle axis of (3, 37, 5), and long axes split in chunks (100003 and 3 x 1500 x 2)", async () => {
  for (const [outer, n, inner] of [[3, 37, 5], [1, 100003, 1], [3, 1500, 2]]) {
    const x = rand(outer * n * inner, 0, 1); // positive: a long sum stays well conditioned
    for (const op of ["sum", "max"] as const) {
      const out = new Float32Array(outer * inner), g = C().zeros("float32", outer * inner);
      jsKernels.reduce(op, out, x, outer, n, inner);
      K().reduce(op, g, up(x), outer, n, inner);
      await check(g, out, RED, `reduce ${op} (${outer}, ${n}, ${inner})`);
    }
  }
});

add("webgpu matmul: both transposes, batch strides, broadcast B, accumulate (33 x 19 x 45, and 130 x 70 x 67 across several tiles)", async () => {
  for (const [batch, M, Kd, N, transA, transB, shared, accumulate] of [
    [2, 33, 19, 45, false, false, false, false], [2, 33, 19, 45, true, false, false, false], [2, 33, 19, 45, false, true, true, false], [2, 33, 19, 45, true, true, false, true],
    [1, 130, 70, 67, false, false, false, false], [2, 130, 70, 67, true, true, false, true], [2, 67, 70, 130, true, false, true, false],
  ] as const) {
    const bStride = shared ? 0 : Kd * N;
    const a = rand(batch * M * Kd), b = rand(batch * Kd * N), out = rand(batch * M * N);
    const g = up(out);
    jsKernels.matmul(out, a, b, batch, M, Kd, N, M * Kd, bStride, transA, transB, accumulate);
    K().matmul(g, up(a), up(b), batch, M, Kd, N, M * Kd, bStride, transA, transB, accumulate);
    await check(g, out, RED, `matmul transA=${transA} transB=${transB} bStride=${bStride} accumulate=${accumulate}`);
  }
});

add("webgpu softmax and logSoftmax forward and backward (5 x 130)", async () => {
  const N = 5, Cc = 130, x = rand(N * Cc, -8, 8), dy = rand(N * Cc);
  x[Cc] = 1e4; // a large logit: the row max must be subtracted
  for (const log of [false, true]) {
    const y = new Float32Array(N * Cc), dx = rand(N * Cc), gy = C().zeros("float32", N * Cc), gdx = up(dx);
    (log ? jsKernels.logSoftmaxForward : jsKernels.softmaxForward)(y, x, N, Cc);
    (log ? K().logSoftmaxForward : K().softmaxForward)(gy, up(x), N, Cc);
    await check(gy, y, RED, `${log ? "log" : ""}softmax forward`);
    (log ? jsKernels.logSoftmaxBackward : jsKernels.softmaxBackward)(dx, y, dy, N, Cc);
    (log ? K().logSoftmaxBackward : K().softmaxBackward)(gdx, gy, up(dy), N, Cc);
    await check(gdx, dx, RED, `${log ? "log" : ""}softmax backward`);
  }
});

add("webgpu layerNorm forward and backward, with and without weight and bias (7 x 70)", async () => {
  const N = 7, Cc = 70, x = rand(N * Cc, -3, 5), w = rand(Cc), bb = rand(Cc), dout = rand(N * Cc);
  for (const affine of [true, false]) {
    const out = new Float32Array(N * Cc), mean = new Float32Array(N), rstd = new Float32Array(N);
    const go = C().zeros("float32", N * Cc), gm = C().zeros("float32", N), gr = C().zeros("float32", N), gx = up(x);
    const gw = affine ? up(w) : null;
    jsKernels.layerNormForward(out, mean, rstd, x, affine ? w : null, affine ? bb : null, N, Cc, 1e-5);
    K().layerNormForward(go, gm, gr, gx, gw, affine ? up(bb) : null, N, Cc, 1e-5);
    await check(go, out, RED, "layerNorm out");
    await check(gm, mean, RED, "layerNorm mean");
    await check(gr, rstd, RED, "layerNorm rstd");
    const dx = rand(N * Cc), dw = rand(Cc), db = rand(Cc);
    const gdx = up(dx), gdw = affine ? up(dw) : null, gdb = affine ? up(db) : null;
    jsKernels.layerNormBackward(dx, affine ? dw : null, affine ? db : null, dout, x, mean, rstd, affine ? w : null, N, Cc);
    K().layerNormBackward(gdx, gdw, gdb, up(dout), gx, gm, gr, gw, N, Cc);
    await check(gdx, dx, RED, "layerNorm dx");
    if (gdw && gdb) {
      await check(gdw, dw, RED, "layerNorm dweight");
      await check(gdb, db, RED, "layerNorm dbias");
    }
  }
});

add("webgpu crossEntropy forward and backward with ignored targets (9 x 67)", async () => {
  const N = 9, V = 67, logits = rand(N * V, -5, 5), dl = rand(N);
  const targets = Int32Array.from({ length: N }, (_, i) => (i % 4 === 3 ? -100 : (i * 13) % V));
  const losses = new Float32Array(N), g = C().zeros("float32", N), gl = up(logits), gt = up(targets);
  jsKernels.crossEntropyForward(losses, logits, targets, N, V, -100);
  K().crossEntropyForward(g, gl, gt, N, V, -100);
  await check(g, losses, RED, "crossEntropy losses");
  const dlog = rand(N * V), gd = up(dlog);
  jsKernels.crossEntropyBackward(dlog, dl, logits, targets, N, V, -100);
  K().crossEntropyBackward(gd, up(dl), gl, gt, N, V, -100);
  await check(gd, dlog, RED, "crossEntropy dlogits");
});

add("webgpu embedding forward and backward with repeated ids (V 11, C 13, N 29)", async () => {
  const V = 11, Cc = 13, N = 29, w = rand(V * Cc), dout = rand(N * Cc);
  const ids = Int32Array.from({ length: N }, (_, i) => (i * 7) % V);
  const out = new Float32Array(N * Cc), g = C().zeros("float32", N * Cc), gids = up(ids);
  jsKernels.embeddingForward(out, w, ids, N, Cc);
  K().embeddingForward(g, up(w), gids, N, Cc);
  await check(g, out, EW, "embedding forward");
  const dw = rand(V * Cc), gdw = up(dw);
  jsKernels.embeddingBackward(dw, dout, ids, N, Cc);
  K().embeddingBackward(gdw, up(dout), gids, N, Cc);
  await check(gdw, dw, RED, "embedding backward (accumulates)");
  // the atomic path that large vocabularies take
  const dw2 = rand(V * Cc), gdw2 = up(dw2);
  jsKernels.embeddingBackward(dw2, dout, ids, N, Cc);
  embeddingBackwardAtomic(C(), gdw2, up(dout), gids, N, Cc);
  await check(gdw2, dw2, RED, "embedding backward, atomic compare-exchange path");
});

add("webgpu adamUpdate: Adam with L2 decay and AdamW, step 3", async () => {
  const n = 201;
  for (const decoupled of [false, true]) {
    const p = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3, decoupled };
    const w = rand(n), gr = rand(n), m = rand(n, -0.1, 0.1), v = rand(n, 0, 0.1);
    const gw = up(w), gm = up(m), gv = up(v);
    jsKernels.adamUpdate(w, gr, m, v, n, p);
    K().adamUpdate(gw, up(gr), gm, gv, n, p);
    await check(gw, w, EW, "adam param");
    await check(gm, m, EW, "adam m");
    await check(gv, v, EW, "adam v");
  }
});

/** Strides of an array of `shape` broadcast to rank-4 (B, H, T, S): 0 where the size is 1. */
export function bcastStrides(shape: readonly number[]): number[] {
  const s = [1, 1, 1, 1].slice(shape.length).concat(shape);
  const st = [0, 0, 0, 0];
  let acc = 1;
  for (let i = 3; i >= 0; i--) { st[i] = s[i] === 1 ? 0 : acc; acc *= s[i]; }
  return st;
}

interface AttnCase { q: Float32Array; k: Float32Array; v: Float32Array; mask: Uint8Array | null; bias: Float32Array | null; dout: Float32Array; d: AttentionDims }

/** Runs one attention case on both backends and compares out, lse, weights, dq, dk, dv, dbias. */
async function attnParity(c: AttnCase, what: string): Promise<void> {
  const { B, H, G, T, S, D, Dv } = c.d;
  const out = new Float32Array(B * H * T * Dv), lse = new Float32Array(B * H * T), w = new Float32Array(B * H * T * S);
  jsKernels.attentionForward(out, lse, w, c.q, c.k, c.v, c.mask, c.bias, c.d);
  const go = C().zeros("float32", out.length), gl = C().zeros("float32", lse.length), gw = C().zeros("float32", w.length);
  const gq = up(c.q), gk2 = up(c.k), gv = up(c.v), gm = c.mask ? up(c.mask) : null, gb = c.bias ? up(c.bias) : null;
  K().attentionForward(go, gl, gw, gq, gk2, gv, gm, gb, c.d);
  await check(go, out, RED, `${what}: out`);
  await check(gl, lse, RED, `${what}: lse`);
  await check(gw, w, RED, `${what}: weights`);
  const dq = rand(c.q.length), dk = rand(c.k.length), dv = rand(c.v.length), dbias = c.bias ? rand(B * H * T * S) : null;
  const gdq = up(dq), gdk = up(dk), gdv = up(dv), gdb = dbias ? up(dbias) : null;
  jsKernels.attentionBackward(dq, dk, dv, dbias, c.dout, c.q, c.k, c.v, out, lse, c.mask, c.bias, c.d);
  K().attentionBackward(gdq, gdk, gdv, gdb, up(c.dout), gq, gk2, gv, go, gl, gm, gb, c.d);
  await check(gdq, dq, RED, `${what}: dq`);
  await check(gdk, dk, RED, `${what}: dk`);
  await check(gdv, dv, RED, `${what}: dv`);
  if (gdb && dbias) await check(gdb, dbias, RED, `${what}: dbias`);
}

add("webgpu attention forward and backward: GQA, causal T != S, masks with empty rows, bias, both", async () => {
  const B = 2, H = 4, G = 2, T = 70, S = 67, D = 8, Dv = 6;
  const base = { B, H, G, T, S, D, Dv, scale: 1 / Math.sqrt(D), causalOffset: null, maskStrides: null, biasStrides: null };
  const mk = (d: Partial<AttentionDims>, mask: Uint8Array | null, bias: Float32Array | null): AttnCase => ({
    q: rand(B * H * T * D), k: rand(B * G * S * D), v: rand(B * G * S * Dv), dout: rand(B * H * T * Dv), mask, bias, d: { ...base, ...d },
  });
  // mask (B, 1, T, S) with row t = 5 of batch 1 fully masked; bias (1, H, T, S)
  const mask = Uint8Array.from({ length: B * T * S }, (_, i) => (Math.floor(i / S) === T + 5 ? 0 : (i * 7) % 5 !== 0 ? 1 : 0));
  const bias = rand(H * T * S, -1, 1);
  await attnParity(mk({ causalOffset: S - T }, null, null), "causal, T > S (first rows empty)");
  await attnParity(mk({ G: 1, scale: 0.3 }, null, null), "MQA, custom scale");
  await attnParity(mk({ maskStrides: bcastStrides([B, 1, T, S]) }, mask, null), "broadcast mask with an empty row");
  await attnParity(mk({ biasStrides: bcastStrides([1, H, T, S]), causalOffset: S - T }, null, bias), "bias + causal");
  await attnParity(mk({ maskStrides: bcastStrides([B, 1, T, S]), biasStrides: bcastStrides([1, H, T, S]) }, mask, bias), "mask + bias");
});
