// One module-level hook that lets explain/ watch (or replace) the attention inside every
// MultiHeadAttention call. Off by default: MultiHeadAttention then pays one null check per call.
import type { AttentionOptions, AttentionResult } from "../ops/attention.js";
import type { Tensor } from "../tensor/tensor.js";

/** One attention call as MultiHeadAttention is about to run it. */
export interface AttentionCall {
  /** The calling module (identity lets a tracer tell layers apart). */
  module: object;
  q: Tensor; // (B, H, T, D)
  k: Tensor; // (B, G, S, D)
  v: Tensor; // (B, G, S, Dv)
  /** The options MultiHeadAttention would pass to scaledDotProductAttention. */
  options: AttentionOptions;
}

/** Computes the head outputs (B, H, T, Dv) and weights (B, H, T, S) in place of scaledDotProductAttention. */
export type AttentionHook = (call: AttentionCall) => AttentionResult;

let hook: AttentionHook | null = null;

/** The installed hook, or null (the normal case). */
export function attentionHook(): AttentionHook | null {
  return hook;
}

/** Installs `next` (null removes it) and returns the previous hook so callers can restore it. */
export function setAttentionHook(next: AttentionHook | null): AttentionHook | null {
  const prev = hook;
  hook = next;
  return prev;
}
