// A model on a fixed input, ready to be explained: trace it, summarise it as the page's payload,
// re-run it with heads ablated. Browser-safe; the CLI serves or exports what this builds.
import { noGrad } from "../autograd/no-grad.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import { headAblation, type RunOutputs } from "./heads.js";
import { buildPayload, type ExplainPayload, type PayloadOptions } from "./payload.js";
import { traceAttention, type HeadRef } from "./trace.js";

export interface Explainable {
  title: string;
  /** Key-side labels (S); query-side labels (T) when they differ (cross-attention). */
  tokens: readonly string[];
  queryTokens?: readonly string[];
  /** A line per key token shown beside it in the party view (a guest's story, say). */
  details?: readonly string[];
  /** Token ids for head labels (same-token and induction need ids, not display strings). */
  ids?: readonly (number | string)[];
  /** The query row to open on. */
  focus?: number;
  /** One forward pass on the fixed input (gradients are off while explaining). */
  run(): RunOutputs;
  /** Lines shown under the title, from the run's outputs (the model's answer, say). */
  notes?(out: RunOutputs): string[];
  /** A scalar of the outputs (the predicted token's logit, say) for gradient maps, and its name. */
  gradTarget?: { label: string; of(out: RunOutputs): Tensor };
}

export interface ExplainOptions extends Pick<PayloadOptions, "detailLimit" | "quantizeAbove" | "flowLimit" | "rolloutLimit"> {
  /** Heads zeroed in this payload. */
  ablate?: readonly HeadRef[];
  /** Add the one-head-at-a-time ablation table (one forward per head); default: when at most 64 heads. */
  ablationTable?: boolean;
  live?: boolean;
  /** Add d(gradTarget)/d(weights) per head (runs a backward pass; parameter .grad fields accumulate). */
  grad?: boolean;
}

/** Traces `subject` and builds the page's payload. */
export function explainPayload(subject: Explainable, opts: ExplainOptions = {}): ExplainPayload {
  const ablate = opts.ablate ?? [];
  const target = opts.grad ? subject.gradTarget : undefined;
  // the gradient pass needs the tape; everything else runs with recording off
  const { result, layers } = target ? traceAttention(() => subject.run(), { ablate, gradOf: (out) => target.of(out) }) : noGrad(() => traceAttention(() => subject.run(), { ablate }));
  return noGrad(() => {
    const heads = layers.reduce((n, l) => n + l.H, 0);
    const table = opts.ablationTable ?? heads <= 64 ? headAblation(() => subject.run()) : null;
    const notes = subject.notes?.(result) ?? [];
    if (result.loss) notes.push(`loss ${result.loss.item().toFixed(4)}`);
    if (ablate.length) notes.push(`ablated: ${ablate.map((r) => `layer ${r.layer} head ${r.head}`).join(", ")}${table ? ` (intact loss ${table.loss.toFixed(4)})` : ""}`);
    if (target) notes.push(`gradient maps: d(${target.label}) / d(attention weights)`);
    return buildPayload(layers, {
      title: subject.title, tokens: subject.tokens, queryTokens: subject.queryTokens, details: subject.details, ids: subject.ids,
      focus: subject.focus, notes, live: opts.live, ablation: table,
      detailLimit: opts.detailLimit, quantizeAbove: opts.quantizeAbove, flowLimit: opts.flowLimit, rolloutLimit: opts.rolloutLimit,
    });
  });
}

/** Checks an ablation request body: an array of at most 1024 {layer, head} integer pairs. */
export function parseHeadRefs(body: unknown): HeadRef[] {
  const fn = "parseHeadRefs";
  check(Array.isArray(body) && body.length <= 1024, fn, "expected an array of at most 1024 {layer, head} objects");
  return body.map((x, i) => {
    const r = x as Partial<HeadRef> | null;
    check(r !== null && typeof r === "object" && Number.isInteger(r.layer) && Number.isInteger(r.head) && (r.layer as number) >= 0 && (r.head as number) >= 0, fn, `entry ${i} must be {layer, head} with non-negative integers, got ${JSON.stringify(x)}`);
    return { layer: r.layer as number, head: r.head as number };
  });
}
