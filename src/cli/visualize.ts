// Glue between explainable models and the page: --serve (local server, live training feed) and
// --html (one self-contained file).
import { explainPayload, parseHeadRefs, type ExplainOptions, type Explainable } from "../explain/session.js";
import { payloadJson, type ExplainPayload } from "../explain/payload.js";
import { mobyDickOpening } from "./corpus.js";
import { renderPage, writeFileAtomic } from "./page.js";
import { startServer, type RunningServer, type ServeOptions } from "./serve.js";

/** Training progress for the page: loss points and the latest attention payload. */
export class LiveFeed {
  readonly points: [number, number][] = [];
  version = 0;
  done = false;
  status = "training";
  #payload: string | null = null;

  push(step: number, loss: number): void {
    this.points.push([step, loss]);
  }
  /** Publishes a new attention payload; the page re-fetches it on its next poll. */
  publish(payload: ExplainPayload): void {
    this.#payload = payloadJson(payload);
    this.version++;
  }
  finish(status = "done"): void {
    this.done = true;
    this.status = status;
  }
  get payload(): string | null {
    return this.#payload;
  }
  json(since: number): string {
    return JSON.stringify({ points: this.points.slice(since), version: this.version, done: this.done, status: this.status });
  }
}

/** Lets the server answer between training steps (training is synchronous JavaScript). */
export const yieldToServer = (): Promise<void> => new Promise((r) => setImmediate(r));

export interface VisualizeOptions extends ServeOptions, ExplainOptions {
  feed?: LiveFeed;
  /** Serve this payload (already computed) until an ablation asks for another. */
  payload?: ExplainPayload;
}

/**
 * Serves the page for `subject` (a function when the model changes, as while training) and
 * resolves with the running server; its URL carries the per-launch token.
 */
export async function serveExplain(subject: Explainable | (() => Explainable), opts: VisualizeOptions = {}): Promise<RunningServer> {
  const current = () => (typeof subject === "function" ? subject() : subject);
  const explainOpts: ExplainOptions = { ...opts, live: opts.live ?? opts.feed !== undefined };
  let cached: string | null = opts.payload ? payloadJson(opts.payload) : null;
  return startServer({
    page: () => renderPage(),
    trace: () => opts.feed?.payload ?? (cached ??= payloadJson(explainPayload(current(), explainOpts))),
    live: opts.feed ? (since) => (opts.feed as LiveFeed).json(since) : undefined,
    corpus: () => mobyDickOpening(),
    ablate: (body) => payloadJson(explainPayload(current(), { ...explainOpts, ablate: parseHeadRefs(body), ablationTable: false })),
  }, opts);
}

/** Writes the page with its data inlined: it works from disk, without a server. */
export function writeHtml(file: string, subject: Explainable, opts: ExplainOptions = {}): ExplainPayload {
  // a model written to a file has finished training: gradient maps are free to add
  const payload = explainPayload(subject, { grad: subject.gradTarget !== undefined, ...opts, live: false });
  writeFileAtomic(file, renderPage(payload));
  return payload;
}

/** Hooks a training loop calls while the live page is open. */
export interface LiveVisualizer {
  url: string;
  /** After every step: records the loss, republishes the maps now and then, lets the server answer. */
  step(step: number, loss: number): Promise<void>;
  /** Publishes the final maps, marks training done, and serves until SIGINT (Ctrl-C). */
  serveForever(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves a live page for a model being trained: `subject()` describes the model on a fixed input
 * as it is now; maps are republished every `every` steps or once a second, whichever comes first.
 */
export async function startLiveVisualizer(subject: () => Explainable, opts: ServeOptions & { every?: number } = {}): Promise<LiveVisualizer> {
  const feed = new LiveFeed();
  // while training, skip the ablation table (one forward per head) to keep steps fast
  const refresh = (final = false) => feed.publish(explainPayload(subject(), { live: true, ablationTable: final ? undefined : false }));
  refresh();
  const srv = await serveExplain(subject, { ...opts, feed });
  const every = opts.every ?? 10;
  let last = performance.now();
  return {
    url: srv.url,
    async step(step, loss) {
      feed.push(step, loss);
      if (step % every === 0 || performance.now() - last > 1000) {
        refresh();
        last = performance.now();
      }
      await yieldToServer();
    },
    async serveForever() {
      refresh(true);
      feed.finish();
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      await srv.close();
    },
    close: () => srv.close(),
  };
}
