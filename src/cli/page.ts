// The visualizer page: HTML + CSS here, the script compiled from web/page.ts (tsconfig.web.json),
// the payload inlined for --html exports or fetched from the local server.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { payloadJson, type ExplainPayload } from "../explain/payload.js";

let script: string | null = null;

/** The compiled page scripts (web/draw.ts, web/page.ts, web/train.ts: classic scripts sharing one scope), found from dist/cli/ or build/src/cli/ (tests). */
export function pageScript(): string {
  if (script !== null) return script;
  const dirs = ["../web/", "../../../dist/web/"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  for (const dir of dirs) {
    try {
      script = ["draw.js", "page.js", "train.js"].map((f) => readFileSync(dir + f, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "")).join("\n");
      return script;
    } catch {
      // try the next place
    }
  }
  throw new Error(`qkv: the visualizer script is missing (looked in ${dirs.join(", ")}); run "npm run build"`);
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 18px;background:#1f2430;color:#eee;position:sticky;top:0;z-index:2}
header h1{font-size:18px;margin:0 12px 0 0;display:inline}
header label{margin-right:10px} #notes{font-size:12px;color:#bbb}
main{display:grid;grid-template-columns:minmax(420px,1fr) minmax(420px,1fr);gap:14px;padding:14px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;overflow:auto}
section.wide{grid-column:1/-1} h2{font-size:15px;margin:2px 0 8px}
canvas{image-rendering:pixelated;display:block} .cap{font-size:12px;color:#666;margin:4px 0}
.grid-row{display:flex;gap:8px;align-items:flex-start;margin-bottom:8px}.grid-label{width:60px;font-size:12px;color:#666}
.tile{margin:0;padding:4px;border:2px solid transparent;border-radius:4px;cursor:pointer;font-size:11px}
.tile.selected{border-color:#d0541a}.tile.ablated canvas{opacity:.25}.tile figcaption{color:#555}
.ablate{font-size:11px;color:#555;display:block}
#party-view table,#ablation table{border-collapse:collapse;font-size:13px}
td,th{white-space:nowrap;padding:2px 8px;text-align:left;border-bottom:1px solid #eee}.num{text-align:right;font-variant-numeric:tabular-nums}
tr.top td{background:#fff4e8;font-weight:600} tr.masked{color:#aaa}
.bar{display:inline-block;height:10px;background:#d0541a;vertical-align:middle}
.vec{display:inline-flex;gap:1px;vertical-align:middle}.vec i{display:inline-block;width:7px;height:12px;border:1px solid #eee}
.note{color:#666;font-size:12px}
#train-controls label{margin-right:12px} #train-controls input{width:80px} #train-controls button{margin-right:6px}
#train-error{color:#b00020;white-space:pre-wrap} #train-result table{border-collapse:collapse;font-size:13px;margin-top:6px}`;

/** The whole page as one self-contained HTML string; `payload` given: works from disk, no server. */
export function renderPage(payload: ExplainPayload | null = null, title = "qkv attention"): string {
  const data = payload ? `<script id="qkv-data" type="application/json">${payloadJson(payload)}</script>` : "";
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(payload?.title ?? title)}</title><style>${CSS}</style></head>
<body>
<header><h1 id="title">${esc(payload?.title ?? title)}</h1>
<label>layer <select id="layer"></select></label><label>head <select id="head"></select></label><select id="scale" title="colour scale"><option value="linear">linear colours</option><option value="sqrt">√ colours</option></select><select id="map" hidden><option value="weights">attention weights</option><option value="grad">|gradient × weight|</option></select><div id="notes"></div></header>
<main>
<section class="wide" id="model-section"><h2>Model view: every layer and head</h2><div id="grid"></div></section>
<section><h2>Attention heatmap</h2><canvas id="heatmap"></canvas><p class="cap" id="heat-caption"></p></section>
<section><h2>Head view</h2><canvas id="headview"></canvas><p class="cap" id="headview-caption"></p></section>
<section class="wide" id="party-section"><h2>Party view: what the pointed token asks, offers and hears</h2><div id="party-view"></div></section>
<section id="rollout-section"><h2>Attention rollout</h2><canvas id="rollout"></canvas><p class="cap" id="rollout-note"></p><h2>Attention flow</h2><canvas id="flow"></canvas><p class="cap" id="flow-note"></p></section>
<section id="ablation-section"><h2>Head ablation</h2><div id="ablation"></div></section>
<section class="wide" id="train-section"><h2>Train in this browser</h2>
<div id="train-controls"><label>backend <select id="train-backend" data-testid="train-backend"><option value="webgpu">webgpu</option><option value="wasm">wasm</option><option value="js">js</option></select></label><label>model <select id="train-model" data-testid="train-model"><option value="party">party model</option><option value="nano">nano GPT (Moby-Dick characters)</option></select></label><label>steps <input id="train-steps" data-testid="train-steps" type="number" min="1" max="100000" step="1" value="150"></label><label>seed <input id="train-seed" data-testid="train-seed" type="number" min="0" step="1" value="0"></label><button id="train-start" data-testid="train-start">Start</button><button id="train-stop" data-testid="train-stop" disabled>Stop</button></div>
<p class="cap" id="train-used" data-testid="train-used"></p><p class="cap" id="train-progress" data-testid="train-progress"></p><p id="train-error" data-testid="train-error"></p>
<canvas id="train-loss" width="640" height="160"></canvas><div id="train-result" data-testid="train-result"></div></section>
<section class="wide" id="live-section" hidden><h2>Training</h2><canvas id="loss" width="640" height="200"></canvas><p id="loss-text" class="cap"></p></section>
</main>
${data}<script>${pageScript().replace(/<\/script/gi, "<\\/script")}</script>
</body></html>
`;
}

/** Writes text atomically: a temp file beside the target, fsync, rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
