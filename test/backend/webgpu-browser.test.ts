// The WebGPU kernels in headless Chromium (navigator.gpu; SwiftShader when there is no GPU) against
// the js reference kernels run in the same page. The page imports the compiled, browser-safe
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

/** Runs in the page: every kernel family on odd shapes, webgpu against js; returns the failures. */
async function pageParity(base: string): Promise<string> {
  const wg = await import(`${base}/build/src/backend/webgpu/index.js`);
  let device;
  try {
    device = await wg.requestBrowserGpuDevice();
  } catch (e) {
    return `SKIP ${(e as Error).message}`;
  }
  const adapter = (device as { adapterInfo?: { vendor: string; architecture: string } }).adapterInfo;
  const { jsKernels: js } = await import(`${base}/build/src/backend/js/index.js`);
  const { Rng } = await import(`${base}/build/src/util/random.js`);
  const { ctx, kernels: K } = wg.webgpuBackend(device);
  const rng = new Rng(3);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 4 * rng.next() - 2);
  const fails: string[] = [];
  const cmp = async (g: any, e: Float32Array, what: string) => {
    const a = await g.read();
    for (let i = 0; i < e.length; i++) {
      if (!(Math.abs(a[i] - e[i]) <= 1e-5 + 1e-4 * Math.abs(e[i]))) { fails.push(`${what}[${i}]: ${a[i]} != ${e[i]}`); return; }
    }
  };
  // matmul, transposed A and B, batch 2, 33 x 19 x 45
  const [M, Kd, N] = [33, 19, 45], a = rand(2 * M * Kd), b = rand(2 * Kd * N), o = new Float32Array(2 * M * N), go = ctx.zeros("float32", o.length);
  js.matmul(o, a, b, 2, M, Kd, N, M * Kd, Kd * N, true, true, false);
  K.matmul(go, ctx.upload(a), ctx.upload(b), 2, M, Kd, N, M * Kd, Kd * N, true, true, false);
  await cmp(go, o, "matmul");
  // gelu, softmax, layerNorm on (7, 70)
  const x = rand(490), y = new Float32Array(490), gy = ctx.zeros("float32", 490), gx = ctx.upload(x);
  js.unary("gelu", y, x, 490); K.unary("gelu", gy, gx, 490); await cmp(gy, y, "gelu");
  js.softmaxForward(y, x, 7, 70); K.softmaxForward(gy, gx, 7, 70); await cmp(gy, y, "softmax");
  const mean = new Float32Array(7), rstd = new Float32Array(7);
  js.layerNormForward(y, mean, rstd, x, null, null, 7, 70, 1e-5);
  K.layerNormForward(gy, ctx.zeros("float32", 7), ctx.zeros("float32", 7), gx, null, null, 7, 70, 1e-5);
  await cmp(gy, y, "layerNorm");
  // attention forward + backward: GQA, causal with T > S
  const d = { B: 1, H: 4, G: 2, T: 70, S: 67, D: 8, Dv: 6, scale: 0.35, causalOffset: -3, maskStrides: null, biasStrides: null };
  const q = rand(4 * 70 * 8), k = rand(2 * 67 * 8), v = rand(2 * 67 * 6), dout = rand(4 * 70 * 6);
  const out = new Float32Array(4 * 70 * 6), lse = new Float32Array(4 * 70);
  const gq = ctx.upload(q), gk = ctx.upload(k), gv = ctx.upload(v), gout = ctx.zeros("float32", out.length), glse = ctx.zeros("float32", lse.length);
  js.attentionForward(out, lse, null, q, k, v, null, null, d);
  K.attentionForward(gout, glse, null, gq, gk, gv, null, null, d);
  await cmp(gout, out, "attention out");
  const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
  const gdq = ctx.zeros("float32", q.length), gdk = ctx.zeros("float32", k.length), gdv = ctx.zeros("float32", v.length);
  js.attentionBackward(dq, dk, dv, null, dout, q, k, v, out, lse, null, null, d);
  K.attentionBackward(gdq, gdk, gdv, null, ctx.upload(dout), gq, gk, gv, gout, glse, null, null, d);
  await cmp(gdq, dq, "attention dq");
  await cmp(gdk, dk, "attention dk");
  await cmp(gdv, dv, "attention dv");
  return `${adapter?.vendor ?? "?"} ${adapter?.architecture ?? ""}|${fails.join("; ")}`;
}

test("webgpu kernels in headless Chromium match js (matmul, gelu, softmax, layerNorm, attention fwd/bwd)", async (t) => {
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
    if (res.startsWith("SKIP ")) return skipOrFail(t, res.slice(5));
    const [adapter, fails] = res.split("|");
    console.log(`webgpu browser parity on: ${adapter}`);
    assert.equal(fails, "", `webgpu in Chromium differs from js: ${fails}`);
  } finally {
    await browser.close();
    server.close();
  }
});
