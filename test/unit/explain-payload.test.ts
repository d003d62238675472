// The visualizer's payload: base64 matches Node's, f32 round-trips exactly, u8 quantises to 1/255,
// GQA heads are repeated per query head, and ablation requests are checked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildPayload, encodeF32, encodeU8, payloadJson, toBase64 } from "../../src/explain/payload.js";
import { explainPayload, parseHeadRefs } from "../../src/explain/session.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { traceAttention } from "../../src/explain/trace.js";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { randn } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";

const f32 = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, "base64")).buffer);

test("toBase64 agrees with Buffer for every length mod 3 and all byte values", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 255, 256, 257, 30000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    assert.equal(toBase64(bytes), Buffer.from(bytes).toString("base64"), `n=${n}`);
  }
});

test("encodeF32 round-trips exactly; encodeU8 rounds to the nearest 1/255 and clamps", () => {
  const xs = [0, 1, -2.5, 1e-8, 3.4e38, 0.1];
  assert.deepEqual(Array.from(f32(encodeF32(xs, [6]).b64)), Array.from(Float32Array.from(xs)));
  const u = encodeU8([0, 1, 0.5, -1, 2, 0.998], [6]);
  assert.deepEqual(Array.from(Buffer.from(u.b64, "base64")), [0, 255, 128, 0, 255, 254]);
  // sqrt encoding: round(sqrt(v) * 255); 1/2048 (a long-context weight) keeps 6 steps instead of 0
  const r = encodeU8([0.25, 1 / 2048, 1], [3], { sqrt: true });
  assert.equal(r.sqrt, true);
  assert.deepEqual(Array.from(Buffer.from(r.b64, "base64")), [128, 6, 255]);
});

test("buildPayload: GQA key heads repeated per query head, weights per head, JSON safe in a script tag", () => {
  const rng = new Rng(3);
  const mha = new MultiHeadAttention({ modelDim: 8, numHeads: 4, numKvHeads: 2, isCausal: true, rng });
  const { layers } = traceAttention(() => mha.forward(randn([1, 3, 8], rng)));
  const p = buildPayload(layers, { tokens: ["</script>", "b", "c"] });
  const l = p.layers[0];
  const k = f32(l.k!.b64), kTrace = layers[0].k.values; // (G=2, S=3, D=2) -> (H=4, S, D)
  for (let h = 0; h < 4; h++) for (let i = 0; i < 6; i++) assert.equal(k[h * 6 + i], kTrace[Math.floor(h / 2) * 6 + i]);
  assert.deepEqual(Array.from(f32(l.weights.b64)), Array.from(layers[0].weights.values));
  assert.equal(l.roles.length, 4);
  assert.ok(p.rollout && p.flow, "self-attention gets rollout and flow");
  assert.doesNotMatch(payloadJson(p), /<\/script/i);
  assert.equal(JSON.parse(payloadJson(p)).tokens[0], "</script>");
});

test("parseHeadRefs accepts {layer, head} integer pairs and refuses anything else", () => {
  assert.deepEqual(parseHeadRefs([{ layer: 0, head: 1 }, { layer: 2, head: 0, extra: 1 }]), [{ layer: 0, head: 1 }, { layer: 2, head: 0 }]);
  for (const bad of [null, {}, [{ layer: -1, head: 0 }], [{ layer: 0.5, head: 0 }], [{ layer: "0", head: 0 }], [null], Array(1025).fill({ layer: 0, head: 0 })]) {
    assert.throws(() => parseHeadRefs(bad), /parseHeadRefs/);
  }
});

test("explainPayload with grad: each layer carries d(target)/d(weights) equal to the trace's", () => {
  const rng = new Rng(8);
  const mha = new MultiHeadAttention({ modelDim: 4, numHeads: 2, isCausal: true, rng });
  const x = randn([1, 3, 4], rng);
  const subject = { title: "t", tokens: ["a", "b", "c"], run: () => ({ logits: mha.forward(x) }), gradTarget: { label: "sum", of: (o: { logits?: Tensor }) => (o.logits as Tensor).sum() } };
  const p = explainPayload(subject, { grad: true, ablationTable: false });
  const { layers } = traceAttention(() => mha.forward(x), { gradOf: (y) => y.sum() });
  assert.deepEqual(Array.from(f32(p.layers[0].grad!.b64)), Array.from(layers[0].weightsGrad!.values));
  assert.ok(p.notes.some((n) => n.includes("d(sum) / d(attention weights)")));
  assert.equal(explainPayload(subject, { ablationTable: false }).layers[0].grad, undefined, "no gradient unless asked");
});
