// Attention in the terminal: per layer/head heatmaps (truecolor, 256 colours, or shade characters
// when colour is off) and the party view of one query token.
import type { LayerTrace } from "../explain/trace.js";
import type { HeadLabel } from "../explain/heads.js";
import { barText, bold, dim, fg, heat, type ColorMode } from "./color.js";

const SHADES = [" ", "░", "▒", "▓", "█"];

/** Display width 1 per code point is close enough for token labels; control characters are made visible. */
export function tokenLabel(s: string, width: number): string {
  const clean = [...s.replace(/\n/g, "⏎").replace(/\t/g, "⇥").replace(/[\x00-\x1f\x7f]/g, "·")];
  const text = clean.length > width ? clean.slice(0, width - 1).join("") + "…" : clean.join("");
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

/** One cell of a heatmap: two coloured blocks, or a shade character pair without colour. */
function cell(mode: ColorMode, w: number): string {
  if (mode === "none") {
    const c = SHADES[Math.min(4, Math.round(Math.max(0, w) * 4))];
    return c + c;
  }
  return fg(mode, heat(w), "██");
}

export interface HeatmapTextOptions {
  /** Show at most this many query rows and key columns: a window ending at `focus` (default 40). */
  maxTokens?: number;
  focus?: number;
  label?: HeadLabel;
  /** Show |d target / d weights * weights| scaled to the head's max instead of the weights (needs a gradient trace). */
  gradient?: boolean;
}

/** |grad * weight| of one head, scaled so its largest entry is 1: which attention edges the target depends on. */
export function attribution(layer: LayerTrace, head: number): Float64Array {
  const { T, S } = layer;
  if (!layer.weightsGrad) throw new Error(`attribution: layer ${layer.index} was traced without gradOf`);
  const g = layer.weightsGrad.values, w = layer.weights.values, off = head * T * S;
  const out = new Float64Array(T * S);
  let m = 1e-30;
  for (let i = 0; i < T * S; i++) m = Math.max(m, (out[i] = Math.abs(g[off + i] * w[off + i])));
  for (let i = 0; i < T * S; i++) out[i] /= m;
  return out;
}

/** A (T, S) heatmap of one head: rows are queries, columns keys. */
export function formatHeatmap(layer: LayerTrace, head: number, tokens: readonly string[], queryTokens: readonly string[], mode: ColorMode, opts: HeatmapTextOptions = {}): string {
  const { T, S } = layer;
  const n = opts.maxTokens ?? 40;
  const focus = opts.focus ?? T - 1;
  const t0 = Math.max(0, Math.min(focus - n + 1, T - n)), t1 = Math.min(T, t0 + n);
  // self-attention: the same window of keys; cross-attention: the first n keys
  const s0 = T === S ? t0 : 0, s1 = Math.min(S, s0 + n);
  const w = opts.gradient ? attribution(layer, head) : layer.weights.values.subarray(head * T * S, (head + 1) * T * S);
  const lw = Math.min(12, Math.max(4, ...queryTokens.slice(t0, t1).map((q) => [...q].length)));
  const role = opts.label ? ` · ${opts.label.role} · entropy ${opts.label.entropy.toFixed(2)}` : "";
  const what = opts.gradient ? " · |gradient × weight|" : "";
  const lines = [bold(mode, `layer ${layer.index} head ${head}${what}`) + dim(mode, `${role} · rows: queries ${t0}..${t1 - 1} of ${T}, columns: keys ${s0}..${s1 - 1} of ${S}`)];
  for (let t = t0; t < t1; t++) {
    let row = "";
    for (let s = s0; s < s1; s++) row += cell(mode, w[t * S + s]);
    const mark = t === focus ? "▶" : " ";
    lines.push(`${mark}${tokenLabel(queryTokens[t], lw)} ${row}`);
  }
  // key labels, vertically: one character per column pair
  const kw = Math.min(6, Math.max(...tokens.slice(s0, s1).map((k) => [...k].length)));
  for (let r = 0; r < kw; r++) {
    let line = " ".repeat(lw + 2);
    for (let s = s0; s < s1; s++) line += tokenLabel([...tokenLabel(tokens[s], kw)][r] ?? " ", 2);
    lines.push(dim(mode, line));
  }
  if (mode === "none") lines.push(dim(mode, `shades: " " <12.5%  ░ <37.5%  ▒ <62.5%  ▓ <87.5%  █ most`));
  return lines.join("\n");
}

const vec = (v: ArrayLike<number>, off: number, n: number, show = 6) =>
  `[${Array.from({ length: Math.min(n, show) }, (_, i) => (v[off + i] >= 0 ? "+" : "") + v[off + i].toFixed(2)).join(" ")}${n > show ? " …" : ""}]`;

/**
 * The party view of query `t` in one head: its question (q), every guest's badge (k) with the
 * match score q·k/sqrt(D), the share of attention each guest gets, and the share of the heard
 * vector (the weighted values) each guest's story makes up.
 */
export function formatPartyView(layer: LayerTrace, head: number, t: number, tokens: readonly string[], queryTokens: readonly string[], mode: ColorMode, opts: { maxGuests?: number; details?: readonly string[] } = {}): string {
  const { H, G, T, S, D, Dv } = layer;
  const kvHead = Math.floor(head / (H / G));
  const row = (head * T + t) * S;
  const w = layer.weights.values, sc = layer.scores.values, m = layer.mask, v = layer.v.values;
  const take = Array.from({ length: S }, (_, s) => {
    let n2 = 0;
    for (let d = 0; d < Dv; d++) n2 += (w[row + s] * v[(kvHead * S + s) * Dv + d]) ** 2;
    return Math.sqrt(n2);
  });
  const takeSum = take.reduce((a, b) => a + b, 0) || 1;
  const order = Array.from({ length: S }, (_, s) => s).filter((s) => m[row + s]).sort((a, b) => w[row + b] - w[row + a]);
  const shown = order.slice(0, opts.maxGuests ?? 12);
  const nw = Math.min(16, Math.max(5, ...shown.map((s) => [...tokens[s]].length)));
  const lines = [
    bold(mode, `party view: layer ${layer.index} head ${head}, query ${t} "${queryTokens[t]}"`),
    `  asks (q)   ${vec(layer.q.values, (head * T + t) * D, D)}`,
    dim(mode, `  ${"guest".padEnd(nw + 2)}${"badge (k)".padEnd(44)}${"match".padStart(7)}  ${"share of attention".padEnd(31)}takes home`),
  ];
  shown.forEach((s, i) => {
    const share = w[row + s];
    const bar = mode === "none" ? barText(share, 20) : fg(mode, heat(share), barText(share, 20));
    const name = i === 0 ? bold(mode, tokenLabel(tokens[s], nw)) : tokenLabel(tokens[s], nw);
    lines.push(`${i === 0 ? "▶" : " "} ${name}  ${vec(layer.k.values, (kvHead * S + s) * D, D, 5).padEnd(43)} ${sc[row + s].toFixed(2).padStart(7)}  ${bar} ${(100 * share).toFixed(1).padStart(5)}%  ${(100 * take[s] / takeSum).toFixed(1).padStart(5)}%${opts.details?.[s] ? dim(mode, `  ${opts.details[s]}`) : ""}`);
  });
  if (order.length > shown.length) lines.push(dim(mode, `  … ${order.length - shown.length} more guests with smaller shares`));
  if (order.length < S) lines.push(dim(mode, `  ${S - order.length} keys masked (not visible to this query)`));
  lines.push(`  hears      ${vec(layer.headOutput.values, (head * T + t) * Dv, Dv)} = the share-weighted stories (v)`);
  return lines.join("\n");
}
