// A training progress bar for the qkv commands. On a terminal it redraws one line in place
// (bar, count, named figures, elapsed, ETA); elsewhere it prints a plain line every tenth of the
// run; "silent" prints nothing (--json).
import { barText } from "./color.js";

export type ProgressMode = "tty" | "lines" | "silent";

export interface ProgressOptions {
  total: number;
  /** Word in front of the bar ("train"). */
  label?: string;
  /** Default process.stderr, so stdout stays clean for results. */
  stream?: NodeJS.WriteStream;
  /** Default: "tty" when the stream is a terminal, else "lines". */
  mode?: ProgressMode;
  /** Bar cells (default 24). */
  width?: number;
  /** Injected clock in ms (tests). */
  now?: () => number;
}

/** Seconds as "4.2s", "3m05s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds - 60 * m);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

export class ProgressBar {
  readonly total: number;
  readonly mode: ProgressMode;
  readonly #label: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #width: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #nextLine = 0;
  #lastPrinted = -1;
  #finished = false;

  constructor(opts: ProgressOptions) {
    this.total = Math.max(0, opts.total);
    this.#label = opts.label ?? "";
    this.#stream = opts.stream ?? process.stderr;
    this.mode = opts.mode ?? (this.#stream.isTTY ? "tty" : "lines");
    this.#width = opts.width ?? 24;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#nextLine = Math.max(1, Math.ceil(this.total / 10));
  }

  /** The line for `current` of total with figures such as { loss: "0.12", acc: "97%" }. */
  render(current: number, fields: Record<string, string> = {}): string {
    const frac = this.total > 0 ? Math.min(1, current / this.total) : 1;
    const elapsed = (this.#now() - this.#start) / 1000;
    const eta = current > 0 && current < this.total ? ` ETA ${formatDuration((elapsed / current) * (this.total - current))}` : "";
    const digits = String(this.total).length;
    const figures = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join("  ");
    const head = this.#label ? `${this.#label} ` : "";
    return `${head}${barText(frac, this.#width)} ${String(current).padStart(digits)}/${this.total} ${String(Math.floor(frac * 100)).padStart(3)}%  ${figures}  ${formatDuration(elapsed)}${eta}`;
  }

  /** Reports progress; redraws at most every 80 ms on a terminal, every tenth of the run otherwise. */
  update(current: number, fields: Record<string, string> = {}): void {
    if (this.#finished || this.mode === "silent") return;
    if (this.mode === "tty") {
      const t = this.#now();
      if (t - this.#lastDraw < 80 && current < this.total) return;
      this.#lastDraw = t;
      this.#stream.write(`\r\x1b[2K${truncate(this.render(current, fields), this.#columns() - 1)}`);
    } else if (current >= this.#nextLine) {
      this.#stream.write(this.render(current, fields) + "\n");
      this.#lastPrinted = current;
      this.#nextLine = current + Math.max(1, Math.ceil(this.total / 10));
    }
  }

  /** Draws the final state and ends the line. */
  finish(current: number, fields: Record<string, string> = {}): void {
    if (this.#finished || this.mode === "silent") return;
    if (this.mode === "tty") this.#stream.write(`\r\x1b[2K${truncate(this.render(current, fields), this.#columns() - 1)}\n`);
    else if (current !== this.#lastPrinted) this.#stream.write(this.render(current, fields) + "\n");
    this.#finished = true;
  }

  // a pseudo-terminal may report 0 columns (script(1), some CI runners): assume 100 then
  #columns(): number {
    const c = this.#stream.columns;
    return typeof c === "number" && c >= 20 ? c : 100;
  }
}

function truncate(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : chars.slice(0, Math.max(0, columns - 1)).join("") + "…";
}
