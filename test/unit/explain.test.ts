// Traces, rollout, flow, head ablation, entropy and head labels on toy models whose attention is
// known by construction (zero W^Q and W^K: every allowed key gets the same score).
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionFlow, attentionRollout } from "../../src/explain/flow.js";
import { headAblation, headEntropy, labelHeads } from "../../src/explain/heads.js";
import { ablateHeads, headWeights, traceAttention } from "../../src/explain/trace.js";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { attentionHook } from "../../src/nn/trace-hook.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randn } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";
import { AttentionStack, ids } from "../helpers/attention-stack.js";

/** Zero queries and keys: weights are uniform over the allowed keys. */
function uniformScores(m: AttentionStack): AttentionStack {
  for (const l of m.layers) for (const p of [l.wQ.weight, l.wQ.bias, l.wK.weight, l.wK.bias]) p?.values.fill(0);
  return m;
}

// head 0: causal (uniform over s <= t); head 1: previous token only (token 0 sees itself)
const twoHeadMask = Tensor.fromArray(Uint8Array.from([1, 0, 0, 1, 1, 0, 1, 1, 1, /* head 1 */ 1, 0, 0, 1, 0, 0, 0, 1, 0]), [1, 2, 3, 3], "bool");

test("traceAttention: results are bit-identical with tracing on and off, and the hook is removed after", () => {
  const m = new AttentionStack({ vocab: 7, dim: 8, layers: 2, heads: 2, seed: 3 });
  const x = ids([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]]);
  const plain = m.forward(x).logits.toFlatArray();
  const traced = traceAttention(() => m.forward(x));
  assert.deepEqual(traced.result.logits.toFlatArray(), plain);
  assert.equal(traced.layers.length, 2);
  assert.equal(attentionHook(), null);
  assert.throws(() => traceAttention(() => { throw new Error("boom"); }), /boom/);
  assert.equal(attentionHook(), null, "hook restored after a throwing run");
});

test("traceAttention: q, k, v, scores, mask, weights and head output agree with a recomputation by hand", () => {
  const rng = new Rng(5);
  const mha = new MultiHeadAttention({ modelDim: 4, numHeads: 2, isCausal: true, rng });
  const x = randn([1, 3, 4], rng);
  const { layers: [l] } = traceAttention(() => mha.forward(x));
  const [T, C, D] = [3, 4, 2];
  const proj = (lin: { weight: Tensor; bias: Tensor | null }) => {
    const W = lin.weight.values, b = lin.bias?.values, X = x.values;
    return Array.from({ length: T }, (_, t) => Array.from({ length: C }, (_, j) => { let s = b ? b[j] : 0; for (let i = 0; i < C; i++) s += X[t * C + i] * W[i * C + j]; return s; }));
  };
  const q = proj(mha.wQ), k = proj(mha.wK), v = proj(mha.wV);
  for (let h = 0; h < 2; h++) for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      assertClose(l.q.values[(h * T + t) * D + d], q[t][h * D + d], {}, "q");
      assertClose(l.v.values[(h * T + t) * D + d], v[t][h * D + d], {}, "v");
    }
    const scores = [0, 1, 2].map((s) => (q[t][h * D] * k[s][h * D] + q[t][h * D + 1] * k[s][h * D + 1]) / Math.sqrt(D));
    const e = scores.map((z, s) => (s <= t ? Math.exp(z) : 0));
    const z = e.reduce((a, b) => a + b, 0);
    for (let s = 0; s < T; s++) {
      const i = (h * T + t) * T + s;
      assertClose(l.scores.values[i], scores[s], { rtol: 1e-5, atol: 1e-6 }, "scores");
      assert.equal(l.mask[i], s <= t ? 1 : 0, "mask");
      assertClose(l.weights.values[i], e[s] / z, { rtol: 1e-5, atol: 1e-6 }, "weights");
    }
    for (let d = 0; d < D; d++) {
      const o = [0, 1, 2].reduce((acc, s) => acc + (e[s] / z) * v[s][h * D + d], 0);
      assertClose(l.headOutput.values[(h * T + t) * D + d], o, { rtol: 1e-5, atol: 1e-6 }, "head output");
    }
  }
});

test("traceAttention gradOf: d(sum(y * c)) / d(weights) equals the closed form c W_O^T v per head", () => {
  const rng = new Rng(9);
  const mha = new MultiHeadAttention({ modelDim: 4, numHeads: 2, isCausal: true, rng });
  const x = randn([1, 3, 4], rng), c = randn([1, 3, 4], rng);
  const { layers: [l] } = traceAttention(() => mha.forward(x), { gradOf: (y) => y.mul(c).sum() });
  assert.ok(l.weightsGrad);
  // y[t, j] = sum_{h,d} (sum_s w[h,t,s] v[h,s,d]) W_O[h*D+d, j] + b  =>  dL/dw[h,t,s] = sum_{d,j} c[t,j] W_O[h*D+d, j] v[h,s,d]
  const WO = mha.wO.weight.values, V = l.v.values, cv = c.values;
  for (let h = 0; h < 2; h++) for (let t = 0; t < 3; t++) for (let s = 0; s < 3; s++) {
    let g = 0;
    for (let d = 0; d < 2; d++) for (let j = 0; j < 4; j++) g += cv[t * 4 + j] * WO[(h * 2 + d) * 4 + j] * V[(h * 3 + s) * 2 + d];
    assertClose(l.weightsGrad.values[(h * 3 + t) * 3 + s], g, { rtol: 1e-4, atol: 1e-5 }, `dweights[${h},${t},${s}]`);
  }
});

test("attentionRollout and attentionFlow match hand-computed values on a 2-layer, 2-head toy", () => {
  const m = uniformScores(new AttentionStack({ vocab: 5, dim: 4, layers: 2, heads: 2 }));
  const { layers } = traceAttention(() => m.forward(ids([[1, 2, 3]]), { mask: twoHeadMask }));
  // mean over heads A = [[1,0,0],[3/4,1/4,0],[1/6,2/3,1/6]]; Â = A/2 + I/2 = [[1,0,0],[3/8,5/8,0],[1/12,1/3,7/12]]
  assertClose(headWeights(layers[0], 0), [1, 0, 0, 1 / 2, 1 / 2, 0, 1 / 3, 1 / 3, 1 / 3], {}, "causal head");
  assertClose(headWeights(layers[1], 1), [1, 0, 0, 1, 0, 0, 0, 1, 0], {}, "previous-token head");
  // rollout = Â Â
  const rollout = [1, 0, 0, /**/ 39 / 64, 25 / 64, 0, /**/ 37 / 144, 58 / 144, 49 / 144];
  assertClose(attentionRollout(layers), rollout, { rtol: 1e-6, atol: 1e-7 }, "rollout");
  // two layers: flow(i <- j) = sum_k min(Â[k][j], Â[i][k]) (paths j -> k -> i are disjoint)
  const flow = [1, 0, 0, /**/ 3 / 4, 5 / 8, 0, /**/ 1 / 2, 2 / 3, 7 / 12];
  assertClose(attentionFlow(layers), flow, { rtol: 1e-6, atol: 1e-7 }, "flow");
  // one target row only; others stay zero
  assertClose(attentionFlow(layers, { targets: [2] }), [0, 0, 0, 0, 0, 0, 1 / 2, 2 / 3, 7 / 12], { rtol: 1e-6, atol: 1e-7 }, "flow row 2");
  // residual 0: A A with A = [[1,0,0],[3/4,1/4,0],[1/6,2/3,1/6]]
  assertClose(attentionRollout(layers, { residual: 0 }), [1, 0, 0, 15 / 16, 1 / 16, 0, 25 / 36, 10 / 36, 1 / 36], { rtol: 1e-6, atol: 1e-7 }, "rollout without residual");
});

test("attentionFlow on three layers never exceeds rollout's row mass and refuses cross-attention", () => {
  const m = new AttentionStack({ vocab: 9, dim: 8, layers: 3, heads: 2, seed: 4 });
  const { layers } = traceAttention(() => m.forward(ids([[1, 2, 3, 4, 5, 6]])));
  const f = attentionFlow(layers);
  for (let i = 0; i < 6; i++) {
    let total = 0;
    for (let j = 0; j < 6; j++) { assert.ok(f[i * 6 + j] >= -1e-12 && f[i * 6 + j] <= 1 + 1e-9); total += f[i * 6 + j]; }
    assert.ok(total >= 1 - 1e-9, `flows into token ${i} sum to at least its unit capacity, got ${total}`);
  }
  const cross = new MultiHeadAttention({ modelDim: 4, numHeads: 2, rng: new Rng(1) });
  const t = traceAttention(() => cross.forward(randn([1, 1, 4], new Rng(2)), { context: randn([1, 3, 4], new Rng(3)) }));
  assert.throws(() => attentionRollout(t.layers), /attentionRollout|augmentedAttention: .*T=1, S=3/);
});

test("head ablation: zeroing a head changes the logits exactly as recomputing W_O by hand", () => {
  const m = new AttentionStack({ vocab: 6, dim: 4, layers: 1, heads: 2, seed: 11 });
  const x = ids([[1, 2, 3, 4]]);
  const { layers: [l], result } = traceAttention(() => m.forward(x));
  const ablated = ablateHeads(() => m.forward(x), [{ layer: 0, head: 1 }]).logits.values;
  // logits = (e + merged W_O + b_O) W_head + b_head, merged[t, h*D+d] = headOutput[h, t, d], head 1 zeroed
  const [T, C, D, V] = [4, 4, 2, 6];
  const E = m.emb.weight.values, WO = m.layers[0].wO.weight.values, bO = m.layers[0].wO.bias!.values;
  const WH = m.head.weight.values, bH = m.head.bias!.values, HO = l.headOutput.values;
  for (let t = 0; t < T; t++) {
    const tok = x.values[t];
    const hidden = Array.from({ length: C }, (_, j) => {
      let s = E[tok * C + j] + bO[j];
      for (let d = 0; d < D; d++) s += HO[(0 * T + t) * D + d] * WO[(0 * D + d) * C + j]; // head 0 only
      return s;
    });
    for (let o = 0; o < V; o++) {
      let y = bH[o];
      for (let j = 0; j < C; j++) y += hidden[j] * WH[j * V + o];
      assertClose(ablated[t * V + o], y, { rtol: 1e-5, atol: 1e-5 }, `logit[${t}, ${o}]`);
    }
  }
  assert.notDeepEqual(Array.from(ablated), result.logits.toFlatArray());
  assert.throws(() => ablateHeads(() => m.forward(x), [{ layer: 0, head: 2 }]), /heads 0\.\.1, got head 2/);
  assert.throws(() => ablateHeads(() => m.forward(x), [{ layer: 1, head: 0 }]), /made 1 attention calls, got layer 1/);
});

test("headAblation reports per-head loss and logit changes that match single ablated runs", () => {
  const m = new AttentionStack({ vocab: 6, dim: 8, layers: 2, heads: 2, seed: 2 });
  const x = ids([[1, 2, 3, 4, 5]]), y = ids([[2, 3, 4, 5, 1]]);
  const run = () => m.forward(x, { targets: y });
  const table = headAblation(run);
  assertClose(table.loss, run().loss!.item(), { rtol: 0, atol: 0 });
  assert.equal(table.heads.length, 4);
  for (const h of table.heads) {
    const r = ablateHeads(run, [{ layer: h.layer, head: h.head }]);
    assertClose(h.dLoss, r.loss!.item() - table.loss, { rtol: 1e-6, atol: 1e-7 }, "dLoss");
    assert.ok(h.maxAbsDLogit > 0, `ablating layer ${h.layer} head ${h.head} changes some logit`);
  }
});

test("headEntropy: uniform rows give log(count), one-hot rows give 0; labelHeads names the patterns", () => {
  const m = uniformScores(new AttentionStack({ vocab: 5, dim: 4, layers: 2, heads: 2 }));
  const { layers } = traceAttention(() => m.forward(ids([[1, 2, 3]]), { mask: twoHeadMask }));
  const e = headEntropy(layers[0]);
  assertClose(e[0], (0 + Math.log(2) + Math.log(3)) / 3, { rtol: 1e-6 }, "causal uniform entropy");
  assertClose(e[1], 0, { atol: 1e-7 }, "one-hot entropy");
  const labels = labelHeads(layers, [1, 2, 3]);
  assert.equal(labels.length, 4);
  assert.equal(labels[1].role, "previous token");
  assertClose(labels[1].scores["previous token"], 1, { atol: 1e-7 });
  // causal uniform: self mass (1 + 1/2 + 1/3) / 3 = 11/18 beats first token (1/2 + 1/3) / 2 = 5/12
  assert.equal(labels[0].role, "self");
  assertClose(labels[0].scores.self, 11 / 18, { rtol: 1e-6 });
  assertClose(labels[0].scores["first token"], 5 / 12, { rtol: 1e-6 });
});

test("labelHeads finds an induction head and a same-token head from masks that force them", () => {
  // tokens a b c a b: an induction head at t=3 ('a') attends s=1 ('b', which followed the earlier 'a')
  const tokens = [7, 8, 9, 7, 8], T = 5;
  const ind = new Uint8Array(2 * T * T), same = ind.subarray(T * T);
  const indRows = [0, 0, 0, 1, 2]; // t=4 ('b'): follower of the earlier 'b' is s=2
  for (let t = 0; t < T; t++) ind[t * T + indRows[t]] = 1;
  const sameRows = [0, 1, 2, 0, 1];
  for (let t = 0; t < T; t++) same[t * T + sameRows[t]] = 1;
  const m = uniformScores(new AttentionStack({ vocab: 10, dim: 4, layers: 1, heads: 2 }));
  const { layers } = traceAttention(() => m.forward(ids([tokens]), { mask: Tensor.fromArray(ind, [1, 2, T, T], "bool") }));
  const labels = labelHeads(layers, tokens);
  assert.equal(labels[0].role, "induction");
  assertClose(labels[0].scores.induction, 1, { atol: 1e-7 });
  assert.equal(labels[1].role, "same token");
});

test("traceAttention with ALiBi and a sliding window: weights are the softmax of the traced scores over the traced mask", () => {
  const rng = new Rng(21);
  const mha = new MultiHeadAttention({ modelDim: 8, numHeads: 2, isCausal: true, alibi: true, slidingWindow: 2, rng });
  const x = randn([1, 5, 8], rng);
  const plain = mha.forward(x).toFlatArray();
  const { layers: [l], result } = traceAttention(() => mha.forward(x));
  assert.deepEqual(result.toFlatArray(), plain);
  const { H, T, S } = l;
  let masked = 0;
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const row = (h * T + t) * S;
    const e = Array.from({ length: S }, (_, s) => (l.mask[row + s] ? Math.exp(l.scores.values[row + s]) : 0));
    const z = e.reduce((a, b) => a + b, 0);
    for (let s = 0; s < S; s++) {
      assertClose(l.weights.values[row + s], e[s] / z, { rtol: 1e-5, atol: 1e-6 }, `weights[${h},${t},${s}]`);
      if (s <= t && !l.mask[row + s]) masked++;
    }
  }
  assert.ok(masked > 0, "the sliding window masks some causal keys");
});
