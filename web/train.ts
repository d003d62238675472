// "Train in this browser": the page imports the compiled qkv library from the local server
// (/lib/<token>/index.js), switches its backend (webgpu, wasm or js) and trains the party model or a
// nano GPT step by step, awaiting each step and yielding to the event loop in between, so the page
// stays responsive. A classic script after page.ts (shares its scope: $, qkv, esc, fmt, drawCurve).
// The run's figures go to window.qkvTrainResult and data-train-state on <body>, for tests.

/** The few parts of qkv's public API (src/index.ts) this panel uses, typed loosely: web/ is compiled on its own. */
interface AdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string }
interface PartyExampleLike { guests: { name: string; story: string }[]; asker: number; target: number; attention: number[]; listenedTo: number; answer: string; correct: boolean }
interface PartyTrainerLike {
  done: boolean;
  trainStepAsync(): Promise<{ step: number; loss: number; accuracy: number }>;
  evaluateAsync(parties: number, opts: { examples?: number }): Promise<{ parties: number; accuracy: number; attentionHitRate: number; loss: number; examples: PartyExampleLike[] }>;
}
interface GptTrainerLike {
  trainStepAsync(): Promise<{ step: number; loss: number; lr: number; gradNorm: number; skipped: string | null }>;
  evaluateAsync(): Promise<number | null>;
}
interface QkvLib {
  setBackend(name: string, opts?: object): Promise<string> | void;
  getBackend(): string;
  initWasm(): Promise<boolean>;
  gpuAdapterName(): string | null;
  gpuContext(): { device: { adapterInfo?: AdapterInfoLike }; flush(): void } | null;
  PartyTrainer: new (opts: { steps: number; seed: number }) => PartyTrainerLike;
  CharTokenizer: { fromText(text: string): { vocabSize: number; encode(text: string): number[]; decode(ids: number[]): string } };
  splitTokens(tokens: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array };
  gptConfig(overrides: object, preset: string): object;
  GPT: new (config: object, opts: { rng: unknown }) => { generateAsync(prompt: number[], opts: object): AsyncGenerator<number> };
  Rng: new (seed: number) => unknown;
  Trainer: new (model: unknown, data: { train: Int32Array; val: Int32Array }, config: object) => GptTrainerLike;
  TRAIN_DEFAULTS: object;
}

type TrainModel = "party" | "nano";
type TrainState = "loading" | "running" | "evaluating" | "done" | "stopped" | "error";

/** One run's figures, as the panel shows them and tests read them (window.qkvTrainResult). */
interface TrainReport {
  /** Counts runs since the page loaded (1 for the first). */
  run: number;
  model: TrainModel;
  /** The backend asked for, and the one that ran (null until set up). */
  requested: string;
  backend: string | null;
  /** The WebGPU adapter (vendor architecture description) when backend is webgpu. */
  adapter: string | null;
  steps: number;
  seed: number;
  state: TrainState;
  step: number;
  /** Per-step training loss, and per-step batch accuracy (party only). */
  losses: number[];
  accuracies: number[];
  /** Seconds spent in training steps (evaluation excluded), and per step. */
  seconds: number;
  secondsPerStep: number;
  /** Party: accuracy, attention hit rate and loss on fresh parties. */
  evaluation: { parties: number; accuracy: number; attentionHitRate: number; loss: number } | null;
  /** Nano GPT: validation loss before and after training. */
  valLossBefore: number | null;
  valLoss: number | null;
  /** Nano GPT: text sampled from the trained model after a fixed prompt. */
  sample: string | null;
  error: string | null;
}

/** Settings of the in-browser nano GPT: small enough that a step takes a second or so on SwiftShader. */
const NANO = { contextLength: 32, batchSize: 8, lr: 3e-3, minLr: 3e-4, evalIters: 4, valFraction: 0.1, prompt: "Call me ", sampleTokens: 24 };
const DEFAULT_STEPS: Record<TrainModel, number> = { party: 150, nano: 30 };

const trainUi = { lib: null as QkvLib | null, stop: false, running: false, runs: 0 };

/** Resolves on the next task (a message, not setTimeout: no 4 ms clamp between fast wasm steps). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}

async function loadLib(): Promise<QkvLib> {
  if (trainUi.lib) return trainUi.lib;
  const url = `/lib/${encodeURIComponent(qkv.token)}/index.js`;
  try {
    trainUi.lib = (await import(url)) as QkvLib;
  } catch (err) {
    throw new Error(`train panel: could not import the qkv library from ${url.replace(qkv.token, "<token>")}: ${(err as Error).message}`);
  }
  return trainUi.lib;
}

/** Switches the library to `name`; resolves to the backend that really runs and its adapter. */
async function switchBackend(lib: QkvLib, name: string): Promise<{ backend: string; adapter: string | null; note: string }> {
  if (name === "webgpu") {
    // no fallback: asking for webgpu and getting wasm silently would misreport the run
    const used = await lib.setBackend("webgpu");
    return { backend: String(used), adapter: await adapterName(lib), note: "" };
  }
  let note = "";
  if (name === "wasm" && !(await lib.initWasm())) note = " (this browser has no WebAssembly SIMD: the js backend runs instead)";
  lib.setBackend(name);
  return { backend: lib.getBackend(), adapter: null, note };
}

async function adapterName(lib: QkvLib): Promise<string | null> {
  let info = lib.gpuContext()?.device.adapterInfo;
  if (!info) {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: AdapterInfoLike } | null> } }).gpu;
    info = (await gpu?.requestAdapter())?.info;
  }
  const name = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(" ") : "";
  return name !== "" ? name : lib.gpuAdapterName();
}

function publish(r: TrainReport): void {
  (window as unknown as { qkvTrainResult: TrainReport }).qkvTrainResult = r;
  document.body.dataset.trainState = r.state;
}

function showProgress(r: TrainReport): void {
  const last = r.losses.length - 1;
  const rate = r.seconds > 0 ? r.step / r.seconds : 0;
  const acc = r.model === "party" && last >= 0 ? ` · accuracy ${fmt(r.accuracies[last], 3)}` : "";
  $("train-progress").textContent = `${r.state} · step ${r.step}/${r.steps}${last >= 0 ? ` · loss ${fmt(r.losses[last], 4)}${acc}` : ""} · ${fmt(rate, 1)} steps/s`;
  drawCurve($<HTMLCanvasElement>("train-loss"), r.losses.map((l, i) => [i + 1, l]));
}

/** The evaluated party: who asked, whom the model listened to, and its attention over the guests. */
function partyExampleHtml(ex: PartyExampleLike): string {
  const rows = ex.guests.map((g, i) => {
    const tags = [i === ex.asker ? "asks" : "", i === ex.target ? "target" : "", i === ex.listenedTo ? "listened to" : ""].filter((s) => s).join(", ");
    const w = ex.attention[i] ?? 0;
    return `<tr${i === ex.listenedTo ? ' class="top"' : ""}><td>${esc(g.name)}</td><td>${esc(g.story)}</td><td class="num">${fmt(w, 3)}</td><td><span class="bar" style="width:${Math.round(w * 120)}px"></span></td><td>${esc(tags)}</td></tr>`;
  }).join("");
  return `<p class="cap">One fresh party: ${esc(ex.guests[ex.asker]?.name ?? "?")} asks about ${esc(ex.guests[ex.target]?.name ?? "?")}; the model answers "${esc(ex.answer)}" (${ex.correct ? "right" : "wrong"}).</p>
<table><tr><th>guest</th><th>story</th><th>attention</th><th></th><th></th></tr>${rows}</table>`;
}

async function trainParty(lib: QkvLib, r: TrainReport, tick: () => Promise<void>): Promise<PartyExampleLike | null> {
  const trainer = new lib.PartyTrainer({ steps: r.steps, seed: r.seed });
  while (!trainer.done && !trainUi.stop) {
    const s = await trainer.trainStepAsync();
    r.losses.push(s.loss);
    r.accuracies.push(s.accuracy);
    await tick();
  }
  r.state = "evaluating";
  showProgress(r);
  const ev = await trainer.evaluateAsync(1000, { examples: 1 });
  r.evaluation = { parties: ev.parties, accuracy: ev.accuracy, attentionHitRate: ev.attentionHitRate, loss: ev.loss };
  return ev.examples[0] ?? null;
}

async function trainNano(lib: QkvLib, r: TrainReport, tick: () => Promise<void>): Promise<void> {
  const text = await (await api("/api/corpus")).text();
  const tok = lib.CharTokenizer.fromText(text);
  const data = lib.splitTokens(Int32Array.from(tok.encode(text)), NANO.valFraction);
  const model = new lib.GPT(lib.gptConfig({ vocabSize: tok.vocabSize, contextLength: NANO.contextLength }, "nano"), { rng: new lib.Rng(r.seed) });
  const trainer = new lib.Trainer(model, data, {
    ...lib.TRAIN_DEFAULTS, steps: r.steps, batchSize: NANO.batchSize, lr: NANO.lr, minLr: NANO.minLr,
    warmupSteps: Math.min(10, Math.floor(r.steps / 10)), evalEvery: 0, evalIters: NANO.evalIters, seed: r.seed,
  });
  r.valLossBefore = await trainer.evaluateAsync();
  for (let i = 0; i < r.steps && !trainUi.stop; i++) {
    const s = await trainer.trainStepAsync();
    if (s.skipped !== null) throw new Error(`Trainer.trainStepAsync: step ${s.step} skipped: ${s.skipped} is not finite`);
    r.losses.push(s.loss);
    await tick();
  }
  r.state = "evaluating";
  showProgress(r);
  r.valLoss = await trainer.evaluateAsync();
  // a short sample through the KV cache, on the same backend (generateAsync reads each step's logits)
  const ids: number[] = [];
  for await (const id of model.generateAsync(tok.encode(NANO.prompt), { maxNewTokens: NANO.sampleTokens, temperature: 0.8, topK: 20, rng: new lib.Rng(r.seed) })) ids.push(id);
  r.sample = NANO.prompt + tok.decode(ids);
}

async function runTraining(): Promise<void> {
  if (trainUi.running) return;
  const model = $<HTMLSelectElement>("train-model").value as TrainModel;
  const steps = Number($<HTMLInputElement>("train-steps").value), seed = Number($<HTMLInputElement>("train-seed").value);
  const r: TrainReport = {
    run: ++trainUi.runs, model, requested: $<HTMLSelectElement>("train-backend").value, backend: null, adapter: null, steps, seed, state: "loading", step: 0,
    losses: [], accuracies: [], seconds: 0, secondsPerStep: NaN, evaluation: null, valLossBefore: null, valLoss: null, sample: null, error: null,
  };
  trainUi.running = true;
  trainUi.stop = false;
  $<HTMLButtonElement>("train-start").disabled = true;
  $<HTMLButtonElement>("train-stop").disabled = false;
  $("train-error").textContent = "";
  $("train-result").innerHTML = "";
  $("train-used").textContent = "";
  publish(r);
  try {
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`train panel: steps must be a positive integer, got ${JSON.stringify($<HTMLInputElement>("train-steps").value)}`);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`train panel: seed must be a non-negative integer, got ${JSON.stringify($<HTMLInputElement>("train-seed").value)}`);
    const lib = await loadLib();
    const used = await switchBackend(lib, r.requested);
    r.backend = used.backend;
    r.adapter = used.adapter;
    $("train-used").textContent = `backend: ${used.backend}${used.adapter ? ` (adapter: ${used.adapter})` : ""}${used.note}`;
    $("train-used").dataset.backend = used.backend;
    r.state = "running";
    publish(r);
    let trainMs = 0, t0 = performance.now(), shown = 0;
    // after each step: count its time, show progress now and then, and let the page breathe
    const tick = async () => {
      // submit what the step left encoded (Trainer's optimizer update) before yielding, so the GPU
      // works on it while the page draws
      lib.gpuContext()?.flush();
      trainMs += performance.now() - t0;
      r.step = r.losses.length;
      r.seconds = trainMs / 1000;
      if (performance.now() - shown > 100) {
        showProgress(r);
        shown = performance.now();
      }
      await nextTask();
      t0 = performance.now();
    };
    const example = model === "party" ? await trainParty(lib, r, tick) : (await trainNano(lib, r, tick), null);
    r.secondsPerStep = r.step > 0 ? r.seconds / r.step : NaN;
    r.state = trainUi.stop ? "stopped" : "done";
    showProgress(r);
    $("train-result").innerHTML = model === "party" && r.evaluation
      ? `<p data-testid="train-eval">On ${r.evaluation.parties} fresh parties: accuracy <b>${fmt(r.evaluation.accuracy, 3)}</b>, attention hit rate <b>${fmt(r.evaluation.attentionHitRate, 3)}</b>, loss ${fmt(r.evaluation.loss, 4)}; ${r.step} steps in ${fmt(r.seconds, 1)} s (${fmt(r.secondsPerStep * 1000, 1)} ms per step) on ${esc(r.backend ?? "?")}.</p>${example ? partyExampleHtml(example) : ""}`
      : `<p data-testid="train-eval">Training loss ${fmt(r.losses[r.losses.length - 1], 4)} after ${r.step} steps; validation loss ${fmt(r.valLossBefore, 4)} before, <b>${fmt(r.valLoss, 4)}</b> after; ${fmt(r.secondsPerStep * 1000, 0)} ms per step on ${esc(r.backend ?? "?")}.</p>${r.sample === null ? "" : `<p>Sample: <q data-testid="train-sample">${esc(r.sample)}</q></p>`}`;
  } catch (err) {
    r.state = "error";
    r.error = (err as Error).message ?? String(err);
    $("train-error").textContent = r.error;
  } finally {
    trainUi.running = false;
    $<HTMLButtonElement>("train-start").disabled = false;
    $<HTMLButtonElement>("train-stop").disabled = true;
    publish(r);
  }
}

function setupTrainPanel(): void {
  const backend = $<HTMLSelectElement>("train-backend");
  backend.value = (navigator as { gpu?: unknown }).gpu ? "webgpu" : "wasm";
  $("train-model").addEventListener("change", (ev) => {
    $<HTMLInputElement>("train-steps").value = String(DEFAULT_STEPS[(ev.target as HTMLSelectElement).value as TrainModel]);
  });
  if (!qkv.served) {
    // an --html export opened from disk has no server to import the library from
    $<HTMLButtonElement>("train-start").disabled = true;
    $("train-used").textContent = "Training in the page needs the served visualizer (qkv party --serve, qkv inspect --serve or qkv train --serve): this exported file carries no library.";
    return;
  }
  $("train-start").addEventListener("click", () => void runTraining());
  $("train-stop").addEventListener("click", () => {
    trainUi.stop = true;
  });
}

setupTrainPanel();
