// The WebGPU kernels in headless Chromium (navigator.gpu; SwiftShader when there is no GPU): the
// same parity cases as in Node (webgpu-cases.ts), against the js reference kernels in the page. The page imports the compiled, browser-safe
// modules from build/src over a 127.0.0.1 server. No Chromium or no adapter: fails under CI,
// otherwise skips loudly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM } from "../helpers/browser.js";
import { repoRoot } from "../helpers/fixtures.js";

function skipOrFail(t: { skip(msg: string): void }, why: string): void {
  const msg = `NO WEBGPU IN CHROMIUM: the browser parity test did not run: ${why}`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n${"!".repeat(80)}\n${msg}\n${"!".repeat(80)}\n`);
  t.skip(msg);
}

/** Runs in the page: every shared parity case (webgpu-cases.ts); returns the adapter and each case's error. */
async function pageParity(base: string): Promise<{ skip?: string; adapter?: string; results?: { name: string; error: string | null }[] }> {
  const wg = await import(`${base}/build/src/backend/webgpu/index.js`);
  const { parityCases } = await import(`${base}/build/test/backend/webgpu-cases.js`);
  let device;
  try {
    device = await wg.requestBrowserGpuDevice();
  } catch (e) {
    return { skip: (e as Error).message };
  }
  const info = (device as { adapterInfo?: { vendor: string; architecture: string } }).adapterInfo;
  const { ctx, kernels } = wg.webgpuBackend(device);
  const results: { name: string; error: string | null }[] = [];
  for (const c of parityCases as { name: string; run(ctx: unknown, k: unknown): Promise<void> }[]) {
    try {
      await c.run(ctx, kernels);
      results.push({ name: c.name, error: null });
    } catch (e) {
      results.push({ name: c.name, error: String((e as Error).message ?? e) });
    }
  }
  return { adapter: `${info?.vendor ?? "?"} ${info?.architecture ?? ""}`, results };
}

test("webgpu kernels in headless Chromium match js: every parity case", async (t) => {
  if (!existsSync(CHROMIUM)) return skipOrFail(t, `no Chromium at ${CHROMIUM}`);
  const root = join(repoRoot, "build");
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]));
    const file = join(repoRoot, path);
    if (path === "/") { res.setHeader("content-type", "text/html"); res.end("<!doctype html><title>webgpu parity</title>"); return; }
    if (!file.startsWith(root + "/") || !existsSync(file)) { res.statusCode = 404; res.end(); return; }
    res.setHeader("content-type", file.endsWith(".js") ? "text/javascript" : "application/octet-stream");
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // localhost is a secure context, so navigator.gpu exists; --enable-unsafe-webgpu enables it on Linux
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run", "--disable-background-networking"] });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const res = await page.evaluate(pageParity, base);
    if (res.skip !== undefined) return skipOrFail(t, res.skip);
    console.log(`webgpu browser parity on: ${res.adapter}`);
    assert.ok(res.results && res.results.length >= 10, "the page ran the parity cases");
    for (const r of res.results) await t.test(`in Chromium: ${r.name}`, () => assert.equal(r.error, null, r.error ?? ""));
  } finally {
    await browser.close();
    server.close();
  }
});
