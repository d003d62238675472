// The wasm kernels in headless Chromium, loaded as plain ES modules from build/src: one thread on a
// page that is not cross-origin isolated, Web Workers on one that is; both match the js kernels.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join, normalize } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../helpers/browser.js";

const root = fileURLToPath(new URL("../../src/", import.meta.url)); // build/src

function serve(isolated: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]));
    const headers: Record<string, string> = isolated ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {};
    if (path === "/") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end("<!doctype html><title>qkv wasm</title>");
      return;
    }
    if (path.includes("..") || !path.endsWith(".js")) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { ...headers, "Content-Type": "text/javascript" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const a = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/` });
  }));
}

/** In the page: attention and matmul on wasm (optionally with workers) against js; max differences. */
async function runInPage(url: string, workers: number, browser: NonNullable<Awaited<ReturnType<typeof launchBrowser>>>): Promise<{ backend: string; threads: number; isolated: boolean; mm: number; attn: number }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  const r = await page.evaluate(async ([n, index, runtime]) => {
    const qkv = await import(index);
    if (!(await qkv.initWasm())) throw new Error("initWasm: no wasm SIMD in Chromium");
    const threads = n > 1 ? await qkv.useWebWorkers(n) : 1;
    (await import(runtime)).setParallelThreshold(0); // every kernel call through the workers
    const rng = new qkv.Rng(1);
    const a = qkv.randn([3, 67, 45], rng), b = qkv.randn([45, 37], rng);
    const q = qkv.randn([2, 4, 70, 16], rng), k = qkv.randn([2, 2, 90, 16], rng), v = qkv.randn([2, 2, 90, 16], rng);
    const run = () => [qkv.matmul(a, b).toFlatArray(), qkv.scaledDotProductAttention(q, k, v, { isCausal: true }).toFlatArray()];
    const backend = qkv.getBackend();
    const [mm1, at1] = run();
    qkv.setBackend("js");
    const [mm2, at2] = run();
    const diff = (x: number[], y: number[]) => x.reduce((m, xi, i) => Math.max(m, Math.abs(xi - y[i])), 0);
    return { backend, threads, isolated: globalThis.crossOriginIsolated, mm: diff(mm1, mm2), attn: diff(at1, at2) };
  }, [workers, "/index.js", "/backend/wasm/runtime.js"] as [number, string, string]);
  await page.close();
  assert.deepEqual(errors, []);
  return r;
}

test("browser: wasm kernels on one thread without cross-origin isolation, Web Workers with it", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const plain = await serve(false), isolated = await serve(true);
  try {
    const one = await runInPage(plain.url, 2, browser);
    assert.deepEqual({ backend: one.backend, threads: one.threads, isolated: one.isolated }, { backend: "wasm", threads: 1, isolated: false });
    const two = await runInPage(isolated.url, 2, browser);
    assert.deepEqual({ backend: two.backend, threads: two.threads, isolated: two.isolated }, { backend: "wasm", threads: 2, isolated: true });
    for (const r of [one, two]) {
      assert.ok(r.mm < 1e-4, `matmul differs from js by ${r.mm}`);
      assert.ok(r.attn < 1e-4, `attention differs from js by ${r.attn}`);
    }
  } finally {
    await browser.close();
    plain.server.close();
    isolated.server.close();
  }
});
