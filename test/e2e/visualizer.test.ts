// The visualizer in real headless Chromium: the served page, the --html export opened from disk,
// and a live training run whose loss curve gains points. Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { spawn } from "node:child_process";
import { partyExplainable } from "../../src/cli/party-view.js";
import { serveExplain, writeHtml } from "../../src/cli/visualize.js";
import { PartyTrainer } from "../../src/train/party.js";
import { ARTIFACTS, launchBrowser, servedUrl } from "../helpers/browser.js";
import { GUESTS, partyToy } from "../helpers/party-toy.js";

let trainer: PartyTrainer | null = null;
/** The party model of `qkv party` trained once for these tests (150 steps, 6 guests). */
function trainedParty(): PartyTrainer {
  if (trainer) return trainer;
  trainer = new PartyTrainer({ seed: 3, steps: 150, guests: 6 });
  while (!trainer.done) trainer.trainStep();
  return trainer;
}

/** Points the mouse at query row `i` of the head view and returns the party view's rows. */
async function pointAtQuery(page: Page, i: number): Promise<{ guest: string; share: number }[]> {
  const at = await page.evaluate((q) => (window as unknown as { qkv: { headViewPoint(i: number): { x: number; y: number } | null } }).qkv.headViewPoint(q), i);
  assert.ok(at, `query ${i} is drawn in the head view`);
  await page.mouse.move(at.x, at.y);
  await page.waitForSelector("[data-testid=party-top]");
  return page.$$eval("#party-view tr[data-guest]", (rows) => rows.map((r) => ({ guest: r.getAttribute("data-guest") ?? "", share: Number(r.getAttribute("data-share")) })));
}

function assertNamesTarget(rows: { guest: string; share: number }[], target: string, guests: number): void {
  assert.equal(rows.length, guests);
  assert.equal(rows[0].guest, target, `the party view's first guest is ${rows[0].guest}, expected ${target}`);
  for (const r of rows.slice(1)) assert.ok(rows[0].share > r.share, `${target} has the largest share (${rows[0].share} vs ${r.guest} ${r.share})`);
}

async function openPage(page: Page, url: string): Promise<void> {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 10_000 });
  assert.deepEqual(errors, []);
}

test("served page of a trained party model: pointing at the asking guest names the right guest with the largest share", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const party = partyExplainable(trainedParty(), 11);
  const srv = await serveExplain(party);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await openPage(page, srv.url);
    // move away first so the pointer event really selects the question row
    await page.mouse.move(5, 5);
    assertNamesTarget(await pointAtQuery(page, 0), party.target, 6);
    assert.match(await page.textContent("[data-testid=party-question]") ?? "", new RegExp(`${party.asker} asks`));
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-party-served.png"), fullPage: true });
    // the ablation toggle asks the server to recompute with the head zeroed
    await page.click("[data-testid=ablate-0-0]");
    await page.waitForFunction(() => document.getElementById("notes")?.textContent?.includes("ablated: layer 0 head 0"));
    assert.equal(await page.isChecked("[data-testid=ablate-0-0]"), true);
  } finally {
    await srv.close();
    await browser.close();
  }
});

test("--html export of the trained party works from disk: same party view, no server", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const dir = mkdtempSync(join(tmpdir(), "qkv-html-"));
  try {
    const file = join(dir, "party.html");
    const party = partyExplainable(trainedParty(), 12);
    writeHtml(file, party);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await openPage(page, pathToFileURL(file).href);
    await page.mouse.move(5, 5);
    assertNamesTarget(await pointAtQuery(page, 0), party.target, 6);
    // the exported trained model carries gradient maps: switching to them redraws the heatmaps
    await page.selectOption("#map", "grad");
    assert.match(await page.textContent("#heat-caption") ?? "", /gradient × weight/);
    // and a hand-set party whose answer is known by construction
    writeHtml(file, partyToy(2, 0));
    await openPage(page, pathToFileURL(file).href);
    await page.mouse.move(5, 5);
    assertNamesTarget(await pointAtQuery(page, 0), "Ada", GUESTS.length);
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-html.png"), fullPage: true });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("qkv party --serve: the live page's loss curve gains points and its attention maps refresh", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const child = spawn(process.execPath, ["build/src/cli/main.js", "party", "--serve", "--steps", "1000", "--guests", "6", "--show", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const url = await servedUrl(child, "qkv party");
    const page = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
    await openPage(page, url);
    const points = () => page.$eval("#loss", (c) => Number((c as HTMLCanvasElement).dataset.points ?? 0));
    await page.waitForFunction(() => Number(document.getElementById("loss")?.dataset.points ?? 0) >= 2, undefined, { timeout: 20_000 });
    const first = await points();
    const renders = Number(await page.getAttribute("body", "data-renders"));
    await page.waitForFunction((n) => Number(document.getElementById("loss")?.dataset.points ?? 0) > n + 5, first, { timeout: 20_000 });
    await page.waitForFunction((r) => Number(document.body.dataset.renders) > r, renders, { timeout: 20_000 });
    assert.ok((await points()) > first);
    assert.equal(await page.isVisible("#live-section"), true);
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-live.png"), fullPage: true });
  } finally {
    child.kill("SIGINT");
    await browser.close();
  }
});

test("qkv train --serve: a GPT's live page gains loss points while it trains", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const out = mkdtempSync(join(tmpdir(), "qkv-train-serve-"));
  const child = spawn(process.execPath, ["build/src/cli/main.js", "train", "--layers", "1", "--heads", "2", "--dim", "16", "--context", "16", "--batch", "2",
    "--steps", "5000", "--eval-every", "0", "--sample", "0", "--out", out, "--serve"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const url = await servedUrl(child, "qkv train");
    const page = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
    await openPage(page, url);
    await page.waitForFunction(() => Number(document.getElementById("loss")?.dataset.points ?? 0) >= 2, undefined, { timeout: 30_000 });
    const first = await page.$eval("#loss", (c) => Number((c as HTMLCanvasElement).dataset.points));
    await page.waitForFunction((n) => Number(document.getElementById("loss")?.dataset.points ?? 0) > n + 5, first, { timeout: 30_000 });
    assert.equal(await page.$$eval("#grid canvas", (cs) => cs.length), 2, "one layer of two heads in the model view");
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-train-live.png"), fullPage: true });
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    await browser.close();
    rmSync(out, { recursive: true, force: true });
  }
});

test("without Chromium the browser tests fail under CI=true and skip loudly otherwise", async () => {
  const ci = process.env.CI;
  const skipped: string[] = [];
  const t = { skip: (why?: string) => void skipped.push(why ?? "") };
  try {
    process.env.CI = "true";
    await assert.rejects(launchBrowser(t, "/nonexistent/chromium"), /CI=true, so this is a failure/);
    delete process.env.CI;
    assert.equal(await launchBrowser(t, "/nonexistent/chromium"), null);
    assert.deepEqual(skipped, ["browser test needs Chromium at /nonexistent/chromium (apt-get install -y chromium)"]);
  } finally {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  }
});
