// The visualizer page's "Train in this browser" panel in headless Chromium with WebGPU enabled
// (SwiftShader where there is no GPU): the page imports the library from the server's /lib/ route,
// trains the party model on webgpu and on wasm to the same accuracy, and runs a nano GPT on webgpu.
// No Chromium: as the other browser tests. No WebGPU adapter in Chromium: fails under CI, skips loudly otherwise.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { RunningServer } from "../../src/cli/serve.js";
import { partyExplainable } from "../../src/cli/party-view.js";
import { serveExplain } from "../../src/cli/visualize.js";
import { PartyTrainer } from "../../src/train/party.js";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.js";

/** Party steps per run: 150 reach accuracy >= 0.999 on wasm for seeds 0-2 (400 is the CLI default). */
const PARTY_STEPS = 150;
const NANO_STEPS = 4;

interface Report {
  run: number; model: string; requested: string; backend: string | null; adapter: string | null; steps: number; state: string; step: number;
  losses: number[]; accuracies: number[]; seconds: number; secondsPerStep: number;
  evaluation: { parties: number; accuracy: number; attentionHitRate: number; loss: number } | null;
  valLossBefore: number | null; valLoss: number | null; sample: string | null; error: string | null;
}

let srv: RunningServer;
before(async () => {
  // the page needs a served model to show; an untrained party will do, the panel trains its own
  srv = await serveExplain(partyExplainable(new PartyTrainer({ seed: 3, steps: 1, guests: 6 }), 11));
});
after(() => srv.close());

function skipOrFail(t: Pick<TestContext, "skip">, why: string): void {
  const msg = `NO WEBGPU IN CHROMIUM: the in-browser webgpu training test did not run: ${why}`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n${"!".repeat(80)}\n${msg}\n${"!".repeat(80)}\n`);
  t.skip(msg);
}

async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(srv.url);
  await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
  return { page, errors };
}

/** Why Chromium cannot run webgpu here, or null when an adapter is available. */
function noAdapter(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return "navigator.gpu is missing";
    return (await gpu.requestAdapter()) ? null : "navigator.gpu.requestAdapter() returned null";
  });
}

/** Sets the panel's controls, presses Start and waits for the run to finish; its report. */
async function train(page: Page, opts: { backend: string; model: "party" | "nano"; steps: number; seed?: number }, timeout: number): Promise<Report> {
  const before = await page.evaluate(() => (window as unknown as { qkvTrainResult?: { run: number } }).qkvTrainResult?.run ?? 0);
  await page.selectOption("[data-testid=train-model]", opts.model);
  await page.selectOption("[data-testid=train-backend]", opts.backend);
  await page.fill("[data-testid=train-steps]", String(opts.steps));
  await page.fill("[data-testid=train-seed]", String(opts.seed ?? 0));
  await page.click("[data-testid=train-start]");
  await page.waitForFunction((n) => {
    const r = (window as unknown as { qkvTrainResult?: { run: number; state: string } }).qkvTrainResult;
    return r !== undefined && r.run > n && ["done", "stopped", "error"].includes(r.state);
  }, before, { timeout, polling: 500 });
  return page.evaluate(() => (window as unknown as { qkvTrainResult: Report }).qkvTrainResult);
}

const describe = (r: Report) => `${r.model} on ${r.backend}${r.adapter ? ` (${r.adapter})` : ""}: ${r.step} steps, ${r.secondsPerStep.toFixed(3)} s/step`
  + (r.evaluation ? `, accuracy ${r.evaluation.accuracy.toFixed(3)}, hit rate ${r.evaluation.attentionHitRate.toFixed(3)}` : "")
  + (r.valLoss !== null ? `, loss ${r.losses[0].toFixed(3)} -> ${r.losses[r.losses.length - 1].toFixed(3)}, val ${r.valLossBefore?.toFixed(3)} -> ${r.valLoss.toFixed(3)}` : "");

/** Runs `body` on the panel's page in a webgpu-enabled Chromium; skips or fails (under CI) without an adapter. */
async function withWebgpuPage(t: TestContext, body: (page: Page, errors: string[]) => Promise<void>): Promise<void> {
  const browser = await launchBrowser(t, undefined, { webgpu: true });
  if (!browser) return;
  try {
    const { page, errors } = await openPage(browser);
    const why = await noAdapter(page);
    if (why !== null) return skipOrFail(t, why);
    await body(page, errors);
  } finally {
    await browser.close();
  }
}

test("party model trained in the page reaches the same accuracy on webgpu as on wasm", (t) => withWebgpuPage(t, async (page, errors) => {
  assert.equal(await page.inputValue("[data-testid=train-backend]"), "webgpu", "the panel defaults to webgpu where navigator.gpu exists");

  const gpu = await train(page, { backend: "webgpu", model: "party", steps: PARTY_STEPS }, 300_000);
  console.log(`in Chromium: ${describe(gpu)}`);
  assert.equal(gpu.error, null, `webgpu run failed: ${gpu.error}`);
  assert.equal(gpu.state, "done");
  assert.equal(gpu.backend, "webgpu", "the webgpu run really ran on webgpu (no fallback)");
  assert.ok(gpu.adapter !== null && gpu.adapter !== "", "the page names the WebGPU adapter");
  assert.match(await page.textContent("[data-testid=train-used]") ?? "", /backend: webgpu \(adapter: .+\)/);
  assert.equal(gpu.step, PARTY_STEPS);
  assert.ok(gpu.losses.every(Number.isFinite), "every webgpu step's loss is finite");
  await page.screenshot({ path: join(ARTIFACTS, "train-in-browser-party-webgpu.png"), fullPage: true });

  const cpu = await train(page, { backend: "wasm", model: "party", steps: PARTY_STEPS }, 120_000);
  console.log(`in Chromium: ${describe(cpu)}`);
  assert.equal(cpu.error, null, `wasm run failed: ${cpu.error}`);
  assert.equal(cpu.backend, "wasm");
  assert.equal(cpu.adapter, null);

  assert.ok(gpu.evaluation && cpu.evaluation, "both runs were evaluated");
  assert.equal(gpu.evaluation.parties, 1000);
  for (const [name, r] of [["webgpu", gpu], ["wasm", cpu]] as const) {
    assert.ok(r.evaluation && r.evaluation.accuracy >= 0.99, `${name}: accuracy ${r.evaluation?.accuracy} on 1000 fresh parties, expected >= 0.99`);
    assert.ok(r.evaluation && r.evaluation.attentionHitRate >= 0.95, `${name}: attention hit rate ${r.evaluation?.attentionHitRate}, expected >= 0.95`);
  }
  assert.ok(Math.abs(gpu.evaluation.accuracy - cpu.evaluation.accuracy) <= 0.01,
    `webgpu accuracy ${gpu.evaluation.accuracy} and wasm accuracy ${cpu.evaluation.accuracy} differ by more than 0.01`);
  assert.match(await page.textContent("[data-testid=train-eval]") ?? "", /accuracy \d\.\d{3}, attention hit rate/);
  assert.deepEqual(errors, []);
}));

test("nano GPT trained in the page on webgpu: finite loss that goes down; bad settings show an error", (t) => withWebgpuPage(t, async (page, errors) => {
  const r = await train(page, { backend: "webgpu", model: "nano", steps: NANO_STEPS, seed: 1 }, 180_000);
  console.log(`in Chromium: ${describe(r)}`);
  assert.equal(r.error, null, `nano run failed: ${r.error}`);
  assert.equal(r.backend, "webgpu");
  assert.equal(r.losses.length, NANO_STEPS);
  assert.ok(r.losses.every(Number.isFinite), `finite losses, got ${r.losses}`);
  const first = r.losses[0], last = r.losses[r.losses.length - 1];
  assert.ok(last < first - 0.2, `the training loss goes down: ${first} -> ${last}`);
  assert.ok(r.valLossBefore !== null && r.valLoss !== null && r.valLoss < r.valLossBefore, `validation loss goes down: ${r.valLossBefore} -> ${r.valLoss}`);
  assert.match(await page.textContent("[data-testid=train-eval]") ?? "", /validation loss/);
  // a sample decoded through the KV cache on the GPU: the prompt, then 24 characters of the corpus's alphabet
  assert.ok(r.sample !== null && r.sample.startsWith("Call me ") && [...r.sample].length === "Call me ".length + 24, `sample ${JSON.stringify(r.sample)}`);
  assert.equal(await page.textContent("[data-testid=train-sample]"), r.sample);
  await page.screenshot({ path: join(ARTIFACTS, "train-in-browser-nano-webgpu.png"), fullPage: true });

  const bad = await train(page, { backend: "wasm", model: "nano", steps: 0 }, 30_000);
  assert.equal(bad.state, "error");
  assert.match(await page.textContent("[data-testid=train-error]") ?? "", /steps must be a positive integer, got "0"/);
  assert.deepEqual(errors, []);
}));
