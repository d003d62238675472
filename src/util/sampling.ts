// Picking the next token from logits: temperature, top-k, top-p (nucleus), from a seeded Rng.
import { check } from "./assert.js";
import type { Rng } from "./random.js";

export interface SamplingOptions {
  /** Divides the logits; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1: all). */
  topP?: number;
}

/** One token id drawn from softmax(logits / temperature) restricted by topK and topP. */
export function sampleLogits(logits: ArrayLike<number>, rng: Rng, opts: SamplingOptions = {}): number {
  const V = logits.length;
  const temperature = opts.temperature ?? 1, topK = opts.topK ?? 0, topP = opts.topP ?? 1;
  check(V > 0, "sampleLogits", "expected at least one logit");
  check(temperature >= 0 && Number.isFinite(temperature), "sampleLogits", `temperature must be a finite number >= 0, got ${temperature}`);
  check(Number.isInteger(topK) && topK >= 0, "sampleLogits", `topK must be a non-negative integer, got ${topK}`);
  check(topP > 0 && topP <= 1, "sampleLogits", `topP must be in (0, 1], got ${topP}`);
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  // candidates sorted by logit, descending (ties by id, so the draw is reproducible)
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK > 0 && topK < V) order = order.slice(0, topK);
  const max = logits[order[0]];
  const probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = probs.reduce((a, b) => a + b, 0);
  let keep = probs.length;
  if (topP < 1) {
    let cum = 0;
    for (let j = 0; j < probs.length; j++) {
      cum += probs[j] / total;
      if (cum >= topP) {
        keep = j + 1;
        break;
      }
    }
  }
  const kept = probs.slice(0, keep);
  const mass = kept.reduce((a, b) => a + b, 0);
  let u = rng.next() * mass;
  for (let j = 0; j < keep; j++) {
    u -= kept[j];
    if (u < 0) return order[j];
  }
  return order[keep - 1];
}
