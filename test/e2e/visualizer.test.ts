// The visualizer in real headless Chromium: the served page, the --html export opened from disk,
// and a live training run whose loss curve gains points. Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { LiveFeed, serveExplain, writeHtml, yieldToServer } from "../../src/cli/visualize.js";
import { explainPayload } from "../../src/explain/session.js";
import { AdamW } from "../../src/optim/adam.js";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.js";
import { AttentionStack, ids } from "../helpers/attention-stack.js";
import { GUESTS, partyToy } from "../helpers/party-toy.js";

/** Points the mouse at query row `i` of the head view and returns the party view's rows. */
async function pointAtQuery(page: Page, i: number): Promise<{ guest: string; share: number }[]> {
  const at = await page.evaluate((q) => (window as unknown as { qkv: { headViewPoint(i: number): { x: number; y: number } | null } }).qkv.headViewPoint(q), i);
  assert.ok(at, `query ${i} is drawn in the head view`);
  await page.mouse.move(at.x, at.y);
  await page.waitForSelector("[data-testid=party-top]");
  return page.$$eval("#party-view tr[data-guest]", (rows) => rows.map((r) => ({ guest: r.getAttribute("data-guest") ?? "", share: Number(r.getAttribute("data-share")) })));
}

function assertNamesTarget(rows: { guest: string; share: number }[], target: string): void {
  assert.equal(rows.length, GUESTS.length);
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

test("served page: pointing at the asking guest names the right guest with the largest share", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const srv = await serveExplain(partyToy(1, 4));
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await openPage(page, srv.url);
    // move away first so the pointer event really selects the question row
    await page.mouse.move(5, 5);
    assertNamesTarget(await pointAtQuery(page, 0), "Elena");
    assert.match(await page.textContent("[data-testid=party-question]") ?? "", /Bruno asks/);
    // the ablation toggle asks the server to recompute with the head zeroed
    await page.click("[data-testid=ablate-0-0]");
    await page.waitForFunction(() => document.getElementById("notes")?.textContent?.includes("ablated: layer 0 head 0"));
    assert.equal(await page.isChecked("[data-testid=ablate-0-0]"), true);
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-served.png"), fullPage: true });
  } finally {
    await srv.close();
    await browser.close();
  }
});

test("--html export works from disk: same party view, no server", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const dir = mkdtempSync(join(tmpdir(), "qkv-html-"));
  try {
    const file = join(dir, "party.html");
    writeHtml(file, partyToy(2, 0));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await openPage(page, pathToFileURL(file).href);
    await page.mouse.move(5, 5);
    assertNamesTarget(await pointAtQuery(page, 0), "Ada");
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-html.png"), fullPage: true });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("live --serve training: the loss curve gains points and the attention maps refresh", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const m = new AttentionStack({ vocab: 8, dim: 16, layers: 2, heads: 2, seed: 5 });
  const seq = [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4];
  const x = ids([seq.slice(0, -1)]), y = ids([seq.slice(1)]);
  const subject = () => ({ title: "live toy", tokens: seq.slice(0, -1).map(String), ids: seq.slice(0, -1), run: () => m.forward(x, { targets: y }) });
  const feed = new LiveFeed();
  feed.publish(explainPayload(subject(), { live: true }));
  const srv = await serveExplain(subject, { feed });
  let training = true;
  const opt = new AdamW(m.parameters(), { lr: 0.02 });
  const train = (async () => {
    for (let step = 0; training && step < 400; step++) {
      const { loss } = m.forward(x, { targets: y });
      opt.zeroGrad();
      loss!.backward();
      opt.step();
      feed.push(step, loss!.item());
      if (step % 10 === 9) feed.publish(explainPayload(subject(), { live: true, ablationTable: false }));
      await new Promise((r) => setTimeout(r, 10));
      await yieldToServer();
    }
    feed.finish();
  })();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
    await openPage(page, srv.url);
    const points = () => page.$eval("#loss", (c) => Number((c as HTMLCanvasElement).dataset.points ?? 0));
    await page.waitForFunction(() => Number(document.getElementById("loss")?.dataset.points ?? 0) >= 3);
    const first = await points();
    const renders = Number(await page.getAttribute("body", "data-renders"));
    await page.waitForFunction((n) => Number(document.getElementById("loss")?.dataset.points ?? 0) > n + 5, first);
    await page.waitForFunction((r) => Number(document.body.dataset.renders) > r, renders);
    assert.ok((await points()) > first);
    assert.equal(await page.isVisible("#live-section"), true);
    await page.screenshot({ path: join(ARTIFACTS, "visualizer-live.png"), fullPage: true });
  } finally {
    training = false;
    await train;
    await srv.close();
    await browser.close();
  }
});
