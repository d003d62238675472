// Visualizer: a 2,048-token, 4-layer, 4-head model's page in headless Chromium. Verifies the page
// drew every head, then reports how long the heatmaps take to render (decode + draw) and to load.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { serveExplain } from "../src/cli/visualize.js";
import { explainPayload } from "../src/explain/session.js";
import { payloadJson } from "../src/explain/payload.js";
import { AttentionStack, ids } from "../test/helpers/attention-stack.js";
import { CHROMIUM } from "../test/helpers/browser.js";

export async function run({ smoke }: { smoke: boolean }): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`visualizer: skipped, no Chromium at ${CHROMIUM}`);
    return;
  }
  const T = smoke ? 256 : 2048, layers = 4, heads = 4;
  const m = new AttentionStack({ vocab: 64, dim: 64, layers, heads, seed: 7 });
  const toks = Array.from({ length: T }, (_, i) => (i * 7919) % 64);
  const subject = { title: `bench: ${T} tokens, ${layers} layers, ${heads} heads`, tokens: toks.map(String), ids: toks, run: () => m.forward(ids([toks])) };
  let t = performance.now();
  const payload = explainPayload(subject, { ablationTable: false });
  const traceMs = performance.now() - t;
  const json = payloadJson(payload);
  const srv = await serveExplain(subject, { ablationTable: false, payload });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--no-first-run", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const rows: string[] = [];
    for (let rep = 0; rep < 3; rep++) {
      t = performance.now();
      await page.goto(srv.url);
      await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
      const loadMs = performance.now() - t;
      const r = await page.evaluate(() => {
        const s = (window as unknown as { qkv: { state: { renderMs: number; decodeMs: number } } }).qkv.state;
        const tiles = document.querySelectorAll("#grid canvas").length;
        const heat = document.getElementById("heatmap") as HTMLCanvasElement;
        return { renderMs: s.renderMs, decodeMs: s.decodeMs, tiles, rows: heat.dataset.rows };
      });
      if (r.tiles !== layers * heads || r.rows !== String(T)) throw new Error(`visualizer bench: expected ${layers * heads} tiles of ${T} rows, got ${r.tiles} tiles, rows ${r.rows}`);
      rows.push(`  run ${rep}: heatmaps rendered in ${r.renderMs.toFixed(0)} ms (base64 decode ${r.decodeMs.toFixed(0)} ms + drawing ${layers * heads} tiles and the 512px map ${(r.renderMs - r.decodeMs).toFixed(0)} ms); page ready ${loadMs.toFixed(0)} ms after navigation`);
    }
    console.log(`visualizer: T=${T}, L=${layers}, H=${heads}; trace + payload ${traceMs.toFixed(0)} ms in Node; payload ${(json.length / 1e6).toFixed(1)} MB (weights as ${payload.layers[0].weights.dtype})`);
    console.log(rows.join("\n"));
  } finally {
    await browser.close();
    await srv.close();
  }
}
