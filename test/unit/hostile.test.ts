// Hostile inputs: +-1e4 logits through softmax, logSoftmax, crossEntropy and attention, and fully
// masked attention rows (output exactly 0, gradient exactly 0, never NaN) on the fused op and the reference.
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionReference, scaledDotProductAttention, type AttentionOptions, type AttentionResult } from "../../src/ops/attention.js";
import { mul } from "../../src/ops/elementwise.js";
import { layerNorm } from "../../src/ops/layer-norm.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { logSoftmax, softmax } from "../../src/ops/softmax.js";
import { tensor } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertClose } from "../helpers/assert-close.js";
import { boolMask, rnd } from "../helpers/inputs.js";

function assertFinite(t: Tensor, what: string): void {
  const i = t.toFlatArray().findIndex((v) => !Number.isFinite(v));
  assert.equal(i, -1, `${what}: non-finite value ${t.values[i]} at index ${i}`);
}

const HUGE = [[1e4, -1e4, 0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]];

test("softmax of +-1e4 logits is exact and finite, with finite gradients", () => {
  const x = tensor(HUGE, undefined, { requiresGrad: true });
  const y = softmax(x);
  // exp(-1e4) underflows to 0 in float64 too, so these are the exact answers
  assertClose(y, tensor([[1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]]), { rtol: 0, atol: 0 });
  mul(y, tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).sum().backward();
  assertFinite(x.grad!, "softmax grad");
  // dx = y (dy - y . dy): row 3 has y = (.5, .5, 0), dy = (7, 8, 9): dx = (-0.25, 0.25, 0)
  assertClose(x.grad!, tensor([[0, 0, 0], [0, 0, 0], [-0.25, 0.25, 0]]), { atol: 1e-7 });
});

test("softmax along axis 0 of +-1e4 logits", () => {
  assertClose(softmax(tensor([[1e4, -1e4], [-1e4, 1e4]]), 0), tensor([[1, 0], [0, 1]]), { rtol: 0, atol: 0 });
});

test("logSoftmax of +-1e4 logits is finite and exact", () => {
  const x = tensor(HUGE, undefined, { requiresGrad: true });
  const y = logSoftmax(x);
  // log(2) for the tied row: 1e4 - (1e4 + log 2)
  assertClose(y, tensor([[0, -2e4, -1e4], [-2e4, -2e4, 0], [-Math.LN2, -Math.LN2, -2e4 - Math.LN2]]), { rtol: 1e-6, atol: 1e-3 });
  y.sum().backward();
  assertFinite(x.grad!, "logSoftmax grad");
  // dx = 1 - 3 softmax
  assertClose(x.grad!, tensor([[-2, 1, 1], [1, 1, -2], [-0.5, -0.5, 1]]), { atol: 1e-6 });
});

test("crossEntropy of +-1e4 logits: losses 0, 2e4, 1e4 and finite gradients", () => {
  const x = tensor([[1e4, -1e4, 0], [1e4, -1e4, 0], [1e4, -1e4, 0]], undefined, { requiresGrad: true });
  const t = tensor([0, 1, 2], undefined, { dtype: "int32" });
  assertClose(crossEntropy(x, t, { reduction: "none" }), tensor([0, 2e4, 1e4]), { rtol: 1e-7, atol: 0 });
  crossEntropy(x, t, { reduction: "sum" }).backward();
  // d loss / d logit = softmax - onehot; softmax = (1, 0, 0)
  assertClose(x.grad!, tensor([[0, 0, 0], [1, -1, 0], [1, 0, -1]]), { atol: 0, rtol: 0 });
});

for (const impl of ["fused", "reference"] as const) {
  const attn = (q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}) =>
    (impl === "fused" ? scaledDotProductAttention(q, k, v, { ...o, returnWeights: true }) : attentionReference(q, k, v, { ...o, returnWeights: true })) as AttentionResult;

  test(`attention (${impl}) with scores of +-1e4 picks the value of the winning key, finite gradients`, () => {
    // q . k_s = 1e4 * (+1, -1, 0) with scale 1: softmax is one-hot on key 0
    const q = tensor([1e4, 0], [1, 1, 1, 2], { requiresGrad: true });
    const k = tensor([[1, 0], [-1, 0], [0, 1]], [1, 1, 3, 2], { requiresGrad: true });
    const v = tensor([[1, 2], [3, 4], [5, 6]], [1, 1, 3, 2], { requiresGrad: true });
    const { output, weights } = attn(q, k, v, { scale: 1 });
    assertClose(weights, tensor([1, 0, 0], [1, 1, 1, 3]), { rtol: 0, atol: 0 });
    assertClose(output, tensor([1, 2], [1, 1, 1, 2]), { rtol: 0, atol: 0 });
    output.sum().backward();
    for (const [n, t] of [["q", q], ["k", k], ["v", v]] as const) assertFinite(t.grad!, `${impl} d${n}`);
    assertClose(v.grad!, tensor([[1, 1], [0, 0], [0, 0]], [1, 1, 3, 2]), { rtol: 0, atol: 0 });
  });

  test(`attention (${impl}) with random 1e4-scale queries stays finite and matches the other implementation`, () => {
    const q = rnd([2, 3, 5, 3], 1, { scale: 1e4, requiresGrad: true }), k = rnd([2, 3, 7, 3], 2, { requiresGrad: true }), v = rnd([2, 3, 7, 3], 3, { requiresGrad: true });
    const { output } = attn(q, k, v, { isCausal: true });
    assertFinite(output, "output");
    output.sum().backward();
    for (const t of [q, k, v]) assertFinite(t.grad!, `${impl} grad`);
    const other = (impl === "fused" ? attentionReference(q.detach(), k.detach(), v.detach(), { isCausal: true }) : scaledDotProductAttention(q.detach(), k.detach(), v.detach(), { isCausal: true })) as Tensor;
    assertClose(output, other, { rtol: 1e-4, atol: 1e-4 });
  });

  test(`attention (${impl}) fully masked row: output exactly 0, that query's gradient exactly 0, all gradients finite`, () => {
    const [B, H, T, S, D] = [1, 2, 3, 5, 3];
    const q = rnd([B, H, T, D], 4, { requiresGrad: true }), k = rnd([B, H, S, D], 5, { requiresGrad: true }), v = rnd([B, H, S, D], 6, { requiresGrad: true });
    const bias = rnd([1, H, T, S], 7, { requiresGrad: true });
    // row t=1 has no allowed key; the others see keys 0..2
    const m = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0];
    const mask = tensor(m, [1, 1, T, S], { dtype: "bool" });
    const { output, weights } = attn(q, k, v, { mask, bias });
    const out = output.toFlatArray(), w = weights.toFlatArray();
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < D; d++) assert.equal(out[(h * T + 1) * D + d], 0, `output head ${h} row 1 index ${d}`);
      for (let s = 0; s < S; s++) assert.equal(w[(h * T + 1) * S + s], 0, `weights head ${h} row 1 key ${s}`);
    }
    output.backward(rnd(output.shape, 8));
    for (const [n, t] of [["q", q], ["k", k], ["v", v], ["bias", bias]] as const) assertFinite(t.grad!, `${impl} d${n}`);
    const dq = q.grad!.toFlatArray(), db = bias.grad!.toFlatArray();
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < D; d++) assert.equal(dq[(h * T + 1) * D + d], 0, `dq head ${h} row 1`);
      for (let s = 0; s < S; s++) assert.equal(db[(h * T + 1) * S + s], 0, `dbias head ${h} row 1`);
      // masked keys 3, 4 get no gradient at all
      for (const s of [3, 4]) for (let d = 0; d < D; d++) assert.equal(v.grad!.values[(h * S + s) * D + d], 0, `dv head ${h} key ${s}`);
    }
  });

  test(`attention (${impl}) every row masked, and causal with T > S: zeros, zero gradients`, () => {
    const q = rnd([1, 1, 4, 3], 1, { requiresGrad: true }), k = rnd([1, 1, 2, 3], 2, { requiresGrad: true }), v = rnd([1, 1, 2, 3], 3, { requiresGrad: true });
    const none = tensor(Array(8).fill(false), [1, 1, 4, 2]);
    const r1 = attn(q, k, v, { mask: none });
    assert.deepEqual(r1.output.toFlatArray(), Array(12).fill(0));
    r1.output.sum().backward();
    for (const t of [q, k, v]) assert.ok(t.grad!.toFlatArray().every((g) => g === 0), `${impl}: every gradient is 0`);
    // causal T=4 > S=2: query t sees s <= t - 2, so rows 0 and 1 see nothing
    const r2 = attn(q.detach(), k.detach(), v.detach(), { isCausal: true });
    assert.deepEqual(r2.output.toFlatArray().slice(0, 6), Array(6).fill(0));
    assertFinite(r2.output, "causal T > S");
  });
}

test("a -inf additive bias masks like a bool mask; a row whose bias is all -inf outputs zeros on both implementations", () => {
  const [H, T, S, D] = [2, 3, 4, 3];
  const allowed = [1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1]; // row 1 has no key
  const biasValues = allowed.map((a) => (a ? 0 : -Infinity));
  const results: Tensor[][] = [];
  for (const impl of ["fused", "reference", "bool mask"] as const) {
    const q = rnd([1, H, T, D], 1, { requiresGrad: true }), k = rnd([1, H, S, D], 2, { requiresGrad: true }), v = rnd([1, H, S, D], 3, { requiresGrad: true });
    const bias = tensor(biasValues, [1, 1, T, S], { requiresGrad: true });
    const out = (impl === "fused" ? scaledDotProductAttention(q, k, v, { bias })
      : impl === "reference" ? attentionReference(q, k, v, { bias })
      : scaledDotProductAttention(q, k, v, { mask: tensor(allowed, [1, 1, T, S], { dtype: "bool" }) })) as Tensor;
    out.backward(rnd(out.shape, 4));
    for (const t of [out, q.grad!, k.grad!, v.grad!]) assertFinite(t, impl);
    if (impl !== "bool mask") assertFinite(bias.grad!, `${impl} dbias`);
    results.push([out, q.grad!, k.grad!, v.grad!]);
  }
  for (const r of results.slice(1)) r.forEach((t, i) => assertClose(t, results[0][i], { rtol: 1e-5, atol: 1e-6 }));
  for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) assert.equal(results[1][0].values[(h * T + 1) * D + d], 0);
});

test("layerNorm of a constant row and of rows offset by 1e4: finite, exact where the math is exact", () => {
  const x = tensor([[3, 3, 3, 3, 3], [1e4, 1e4 + 1, 1e4 + 2, 1e4 + 3, 1e4 + 4]], undefined, { requiresGrad: true });
  const w = tensor([1, 2, 3, 4, 5], undefined, { requiresGrad: true }), b = tensor([0.5, 0.5, 0.5, 0.5, 0.5], undefined, { requiresGrad: true });
  const y = layerNorm(x, w, b);
  // constant row: xhat = 0, so y = bias; second row: xhat = (c - 2) / sqrt(2 + eps)
  const r = 1 / Math.sqrt(2 + 1e-5);
  assertClose(y, tensor([[0.5, 0.5, 0.5, 0.5, 0.5], [-2 * r + 0.5, -2 * r + 0.5, 0.5, 4 * r + 0.5, 10 * r + 0.5]]), { rtol: 1e-5, atol: 1e-5 });
  y.backward(rnd([2, 5], 1));
  for (const t of [x.grad!, w.grad!, b.grad!]) assertFinite(t, "layerNorm grad");
});

test("hostile attention at a size fast backends take (T=33, S=37, D=Dv=8): masked rows, 1e4 scores, NaN row", () => {
  const [B, H, T, S, D] = [1, 2, 33, 37, 8];
  const qv = rnd([B, H, T, D], 1, { scale: 300 }).values.slice(); // scores in the thousands
  for (let d = 0; d < D; d++) qv[5 * D + d] = NaN; // head 0, row 5: every score NaN
  const m = Array.from(boolMask([B, 1, T, S], 2, 0.7).values);
  for (let s = 0; s < S; s++) m[9 * S + s] = 0; // row 9: no allowed key
  const mask = tensor(m, [B, 1, T, S], { dtype: "bool" });
  const runs = (["fused", "reference"] as const).map((impl) => {
    const q = tensor(Array.from(qv), [B, H, T, D], { requiresGrad: true }), k = rnd([B, H, S, D], 3, { requiresGrad: true }), v = rnd([B, H, S, D], 4, { requiresGrad: true });
    const out = (impl === "fused" ? scaledDotProductAttention(q, k, v, { mask, isCausal: true }) : attentionReference(q, k, v, { mask, isCausal: true })) as Tensor;
    return { out };
  });
  for (const { out } of runs) {
    const o = out.toFlatArray();
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) assert.equal(o[(h * T + 9) * D + d], 0, `row 9 output head ${h}`);
    for (let d = 0; d < D; d++) assert.ok(Number.isNaN(o[5 * D + d]), "head 0 row 5 is NaN");
    const finiteRows = o.filter((_, i) => Math.floor(i / D) !== 5);
    assert.ok(finiteRows.every(Number.isFinite), "every other row is finite");
  }
  const keep = (t: Tensor) => t.toFlatArray().map((x, i) => (Math.floor(i / D) === 5 ? 0 : x));
  assertClose(keep(runs[0].out), keep(runs[1].out), { rtol: 1e-4, atol: 1e-4 });
  // without the NaN row: finite gradients, the masked row's query gets exactly 0, both implementations agree
  const grads = (["fused", "reference"] as const).map((impl) => {
    const q = rnd([B, H, T, D], 1, { scale: 300, requiresGrad: true }), k = rnd([B, H, S, D], 3, { requiresGrad: true }), v = rnd([B, H, S, D], 4, { requiresGrad: true });
    const out = (impl === "fused" ? scaledDotProductAttention(q, k, v, { mask, isCausal: true }) : attentionReference(q, k, v, { mask, isCausal: true })) as Tensor;
    out.backward(rnd(out.shape, 5));
    for (const t of [q.grad!, k.grad!, v.grad!]) assertFinite(t, `${impl} grad`);
    for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) assert.equal(q.grad!.values[(h * T + 9) * D + d], 0, `${impl} dq row 9`);
    return [q.grad!, k.grad!, v.grad!];
  });
  grads[0].forEach((g, i) => assertClose(g, grads[1][i], { rtol: 1e-3, atol: 1e-3 }, `grad ${"qkv"[i]}`));
});
