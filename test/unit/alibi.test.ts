// ALiBi slopes and bias, the sliding-window mask, and their use through scaledDotProductAttention.
import assert from "node:assert/strict";
import { test } from "node:test";
import { alibiBias, alibiSlopes, slidingWindowMask } from "../../src/ops/alibi.js";
import { attentionReference, scaledDotProductAttention } from "../../src/ops/attention.js";
import { randn } from "../../src/tensor/create.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { assertClose } from "../helpers/assert-close.js";

test("alibiSlopes: 2^(-8(h+1)/H) for powers of two, the paper's interleaving otherwise", () => {
  assertClose(alibiSlopes(8), [1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256], { rtol: 1e-12 });
  // ofirpress/attention_with_linear_biases get_slopes(6): slopes(4) + slopes(8)[0::2][:2]
  assertClose(alibiSlopes(6), [1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], { rtol: 1e-12 });
});

test("alibiBias: m_h * (s - p) with queries aligned to the end of the keys", () => {
  const b = alibiBias(2, 2, 3); // (1, 2, 2, 3): queries at p = 1, 2
  assert.deepEqual([...b.shape], [1, 2, 2, 3]);
  // head 0 slope 1/16, head 1 slope 1/256
  assertClose(b, [-1 / 16, 0, 1 / 16, -2 / 16, -1 / 16, 0, -1 / 256, 0, 1 / 256, -2 / 256, -1 / 256, 0], { rtol: 1e-6 });
});

test("slidingWindowMask: query at p sees keys in (p - W, p]", () => {
  assert.deepEqual(slidingWindowMask(2, 4, 2).toFlatArray(), [0, 1, 1, 0, 0, 0, 1, 1]);
});

test("scaledDotProductAttention alibi/slidingWindow options equal explicit bias and mask, fused and reference", () => {
  const rng = new Rng(2);
  const q = randn([2, 4, 3, 8], rng), k = randn([2, 2, 5, 8], rng), v = randn([2, 2, 5, 8], rng);
  const explicit = scaledDotProductAttention(q, k, v, { bias: alibiBias(4, 3, 5), mask: slidingWindowMask(3, 5, 2), isCausal: true });
  const viaOpts = scaledDotProductAttention(q, k, v, { alibi: true, slidingWindow: 2 });
  const ref = attentionReference(q, k, v, { alibi: true, slidingWindow: 2 }) as Tensor;
  assertClose(viaOpts, explicit, { rtol: 1e-6, atol: 1e-7 });
  assertClose(ref, explicit, { rtol: 1e-5, atol: 1e-6 });
  const plain = scaledDotProductAttention(q, k, v, { isCausal: true });
  assert.notDeepEqual(plain.toFlatArray(), viaOpts.toFlatArray());
});
