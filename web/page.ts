// The qkv attention visualizer: one classic script, inlined into the page by `qkv inspect --serve`,
// `qkv party --serve`, `qkv train --serve` and `--html FILE`. It draws what the payload holds
// (src/explain/payload.ts); it runs no model. Canvas everywhere, so thousands of tokens stay smooth.

interface Encoded { dtype: "f32" | "u8"; sqrt?: boolean; shape: number[]; b64: string }
interface LayerData {
  name: string; H: number; T: number; S: number; D: number; Dv: number;
  weights: Encoded; q?: Encoded; k?: Encoded; v?: Encoded; scores?: Encoded; mask?: Encoded; headOutput?: Encoded; grad?: Encoded;
  entropy: number[]; roles: string[];
}
interface Payload {
  version: 1; title: string; tokens: string[]; queryTokens: string[]; details: string[] | null; layers: LayerData[];
  rollout: Encoded | null; flow: Encoded | null;
  ablation: { loss: number; heads: { layer: number; head: number; dLoss: number; maxAbsDLogit: number }[] } | null;
  focus: number; notes: string[]; live: boolean;
}
interface LiveUpdate { points: [number, number][]; version: number; done: boolean; status?: string }

const qkv = {
  payload: null as Payload | null,
  cache: new Map<Encoded, Arr>(),
  layer: 0,
  head: 0,
  query: 0,
  ablated: new Set<string>(),
  /** What the heatmaps show: the attention weights, or |gradient x weight| per head scaled to its max. */
  map: "weights" as "weights" | "grad",
  attribution: new Map<LayerData, Arr>(),
  token: new URLSearchParams(location.search).get("token") ?? "",
  served: location.protocol.startsWith("http"),
  losses: [] as [number, number][],
  version: -1,
  renderMs: 0,
  decodeMs: 0,
  renders: 0,
  headViewRows: [] as { i: number; x: number; y: number }[],
};

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
function decode(e: Encoded): Arr {
  let a = qkv.cache.get(e);
  if (a) return a;
  const bytes = fromBase64(e.b64);
  a = e.dtype === "f32" ? { data: new Float32Array(bytes.buffer, 0, bytes.length / 4), scale: 1 } : { data: bytes, scale: 1 / 255, sq: e.sqrt === true };
  qkv.cache.set(e, a);
  return a;
}

/** Float view of a small f32 array (q, k, v, scores). */
const f32 = (e: Encoded) => decode(e).data as Float32Array;

/** The heatmap values of a layer: weights, or |dTarget/dw * w| scaled per head to [0, 1]. */
function mapOf(l: LayerData): Arr {
  if (qkv.map !== "grad" || !l.grad) return decode(l.weights);
  let a = qkv.attribution.get(l);
  if (a) return a;
  const w = decode(l.weights), g = f32(l.grad), n = l.T * l.S, out = new Float32Array(l.H * n);
  for (let h = 0; h < l.H; h++) {
    let m = 1e-30;
    for (let i = h * n; i < (h + 1) * n; i++) m = Math.max(m, (out[i] = Math.abs(g[i] * val(w, i))));
    for (let i = h * n; i < (h + 1) * n; i++) out[i] /= m;
  }
  a = { data: out, scale: 1 };
  qkv.attribution.set(l, a);
  return a;
}

const P = () => qkv.payload as Payload;
const L = () => P().layers[qkv.layer];
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const key = (l: number, h: number) => `${l}:${h}`;
/** NaN travels through JSON as null: show a dash. */
const fmt = (x: number | null | undefined, digits: number) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");

function renderModelView(): void {
  const grid = $("grid");
  grid.innerHTML = "";
  const p = P();
  const tile = Math.max(64, Math.min(160, Math.floor(900 / Math.max(...p.layers.map((l) => l.H)))));
  p.layers.forEach((l, li) => {
    const w = mapOf(l);
    const row = document.createElement("div");
    row.className = "grid-row";
    row.innerHTML = `<div class="grid-label">${esc(l.name)}</div>`;
    for (let h = 0; h < l.H; h++) {
      const fig = document.createElement("figure");
      fig.className = "tile" + (li === qkv.layer && h === qkv.head ? " selected" : "") + (qkv.ablated.has(key(li, h)) ? " ablated" : "");
      fig.dataset.layer = String(li);
      fig.dataset.head = String(h);
      const c = document.createElement("canvas");
      c.style.width = c.style.height = `${tile}px`;
      drawHeat(c, w, h * l.T * l.S, l.T, l.S, tile);
      c.style.height = `${Math.max(8, Math.round((tile * c.height) / c.width))}px`;
      const ab = p.ablation?.heads.find((x) => x.layer === li && x.head === h);
      fig.innerHTML = `<figcaption>L${li} H${h} · ${esc(l.roles[h] ?? "")}<br>entropy ${fmt(l.entropy[h], 2)}${ab && typeof ab.dLoss === "number" ? ` · Δloss ${fmt(ab.dLoss, 3)}` : ""}</figcaption>`;
      fig.prepend(c);
      const box = document.createElement("label");
      box.className = "ablate";
      box.innerHTML = `<input type="checkbox" data-testid="ablate-${li}-${h}" ${qkv.ablated.has(key(li, h)) ? "checked" : ""}> ablate`;
      box.addEventListener("click", (ev) => ev.stopPropagation());
      (box.firstChild as HTMLInputElement).addEventListener("change", () => toggleAblation(li, h));
      fig.append(box);
      fig.addEventListener("click", () => select(li, h));
      row.append(fig);
    }
    grid.append(row);
  });
}

function renderHeatmap(): void {
  const l = L(), c = $<HTMLCanvasElement>("heatmap");
  drawHeat(c, mapOf(l), qkv.head * l.T * l.S, l.T, l.S, 512);
  $("heat-caption").textContent = `${l.name}, head ${qkv.head}: rows are queries (${l.T}), columns keys (${l.S}); brighter = ${qkv.map === "grad" ? "larger |gradient × weight| (scaled to the head's max)" : "more attention"}`;
}

/** Head view: queries on the left, keys on the right, a line per pair with opacity = weight. */
function renderHeadView(): void {
  const l = L(), p = P(), c = $<HTMLCanvasElement>("headview");
  const wa = decode(l.weights), base = qkv.head * l.T * l.S;
  const win = 60; // tokens shown per side; long inputs show a window around the query
  const t0 = Math.max(0, Math.min(qkv.query - (win >> 1), l.T - win)), t1 = Math.min(l.T, t0 + win);
  const rel = l.T === l.S ? t0 : 0;
  const s0 = Math.max(0, Math.min(rel, l.S - win)), s1 = Math.min(l.S, s0 + win);
  const rowH = 18, width = 620, rows = Math.max(t1 - t0, s1 - s0);
  c.width = width;
  c.height = rows * rowH + 8;
  const ctx = c.getContext("2d") as CanvasRenderingContext2D;
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const xl = 250, xr = width - 150;
  qkv.headViewRows = [];
  for (let t = t0; t < t1; t++) {
    const y = (t - t0) * rowH + rowH / 2 + 4;
    const focus = t === qkv.query;
    const all = l.T * l.S <= 4096;
    // long rows spread thin: the pointed row's lines are scaled to its own largest weight
    let rowMax = 1;
    if (focus && !all) {
      rowMax = 1e-12;
      for (let s = 0; s < l.S; s++) rowMax = Math.max(rowMax, val(wa, base + t * l.S + s));
    }
    if (focus || all) for (let s = s0; s < s1; s++) {
      const a = val(wa, base + t * l.S + s) / rowMax;
      if (a < 0.01) continue;
      ctx.strokeStyle = focus ? `rgba(230,120,20,${a})` : `rgba(70,110,200,${a * 0.5})`;
      ctx.lineWidth = focus ? 1 + 3 * a : 1;
      ctx.beginPath();
      ctx.moveTo(xl + 4, y);
      ctx.lineTo(xr - 4, (s - s0) * rowH + rowH / 2 + 4);
      ctx.stroke();
    }
    ctx.fillStyle = focus ? "#c05000" : "#222";
    ctx.textAlign = "right";
    ctx.fillText(p.queryTokens[t].slice(0, 40), xl, y);
    qkv.headViewRows.push({ i: t, x: xl - 20, y });
  }
  ctx.textAlign = "left";
  for (let s = s0; s < s1; s++) {
    const a = val(wa, base + qkv.query * l.S + s);
    ctx.fillStyle = color(a);
    ctx.fillRect(xr, (s - s0) * rowH + 5, 8, rowH - 2);
    ctx.fillStyle = "#222";
    ctx.fillText(p.tokens[s].slice(0, 24), xr + 12, (s - s0) * rowH + rowH / 2 + 4);
  }
  $("headview-caption").textContent = `queries ${t0}..${t1 - 1} of ${l.T}, keys ${s0}..${s1 - 1} of ${l.S}; point at a query on the left`;
}

/** A vector as coloured cells (red +, blue -); the first 16 dimensions, the rest summarised by a title. */
function vecCells(v: Float32Array, off: number, n: number, scale: number): string {
  let s = "";
  for (let i = 0; i < Math.min(n, 16); i++) s += `<i style="background:${diverging(v[off + i] / scale)}"></i>`;
  const all = Array.from(v.subarray(off, off + n), (x) => x.toFixed(2)).join(" ");
  return `<span class="vec" title="${n} dims: ${all}">${s}${n > 16 ? "…" : ""}</span>`;
}

/** The party view: the pointed query's question, every guest's badge, match score, share and story. */
function renderParty(): void {
  const l = L(), p = P(), t = qkv.query, h = qkv.head;
  const wa = decode(l.weights), row = (h * l.T + t) * l.S;
  const w = wa.data.subarray(row, row + l.S); // raw: sorts like the values
  const share = (s: number) => val(wa, row + s);
  const order = Array.from({ length: l.S }, (_, s) => s).sort((a, b) => w[b] - w[a]);
  const shown = order.slice(0, 40);
  const q = l.q && f32(l.q), k = l.k && f32(l.k), v = l.v && f32(l.v), sc = l.scores && f32(l.scores), m = l.mask && f32(l.mask);
  const maxAbs = (a: Float32Array | undefined) => (a ? a.reduce((x, y) => Math.max(x, Math.abs(y)), 1e-9) : 1);
  const qs = maxAbs(q), ks = maxAbs(k), vs = maxAbs(v);
  const takes = shown.map((s) => {
    if (!v) return share(s);
    let n = 0;
    for (let d = 0; d < l.Dv; d++) n += (share(s) * v[(h * l.S + s) * l.Dv + d]) ** 2;
    return Math.sqrt(n);
  });
  const takeSum = takes.reduce((a, b) => a + b, 0) || 1;
  let html = `<p class="question" data-testid="party-question">Question from <b>${esc(p.queryTokens[t])}</b> (query ${t}, ${esc(l.name)}, head ${h})${q ? ` ${vecCells(q, (h * l.T + t) * l.D, l.D, qs)}` : ""}</p>`;
  html += `<table><thead><tr><th>guest</th>${k ? "<th>badge (key)</th>" : ""}${sc ? "<th>match score</th>" : ""}<th>share of attention</th>${v ? "<th>story (value)</th><th>takes home</th>" : ""}${p.details ? "<th>story</th>" : ""}</tr></thead><tbody>`;
  shown.forEach((s, i) => {
    const sh = share(s);
    const masked = m ? m[row + s] === 0 : false;
    html += `<tr data-guest="${esc(p.tokens[s])}" data-share="${sh}" class="${masked ? "masked" : ""}${i === 0 ? " top" : ""}"${i === 0 ? ' data-testid="party-top"' : ""}>`;
    html += `<td class="name">${esc(p.tokens[s])}</td>`;
    if (k) html += `<td>${vecCells(k, (h * l.S + s) * l.D, l.D, ks)}</td>`;
    if (sc) html += `<td class="num">${masked ? "masked" : sc[row + s].toFixed(2)}</td>`;
    html += `<td><span class="bar" style="width:${Math.round(sh * 160)}px"></span> ${(sh * 100).toFixed(1)}%</td>`;
    if (v) html += `<td>${vecCells(v, (h * l.S + s) * l.Dv, l.Dv, vs)}</td><td class="num">${((takes[i] / takeSum) * 100).toFixed(1)}%</td>`;
    if (p.details) html += `<td class="detail">${esc(p.details[s] ?? "")}</td>`;
    html += "</tr>";
  });
  html += "</tbody></table>";
  if (order.length > shown.length) html += `<p class="note">${order.length - shown.length} more guests with smaller shares not shown</p>`;
  if (l.headOutput) html += `<p>What it hears (head output, the share-weighted stories): ${vecCells(f32(l.headOutput), (h * l.T + t) * l.Dv, l.Dv, vs)}</p>`;
  $("party-view").innerHTML = html;
}

function renderRolloutFlow(): void {
  const p = P();
  const sec = $("rollout-section");
  const self = p.layers.every((l) => l.T === l.S);
  sec.hidden = !self;
  $("rollout-note").textContent = p.rollout ? "attention rollout (Â_L ... Â_1, residual counted as self-attention)" : "attention rollout is computed for up to 512 tokens";
  if (!p.rollout) return;
  const T = p.rollout.shape[0];
  drawHeat($<HTMLCanvasElement>("rollout"), decode(p.rollout), 0, T, T, 320);
  if (p.flow) drawHeat($<HTMLCanvasElement>("flow"), decode(p.flow), 0, T, T, 320);
  $("flow-note").textContent = p.flow ? "attention flow (max-flow through the layers)" : `attention flow is computed for up to 24 tokens; this input has ${T}`;
}

function renderAblation(): void {
  const a = P().ablation;
  const names = [...qkv.ablated].map((k) => `L${k.replace(":", " H")}`);
  let html = a ? `<p>Loss ${fmt(a.loss, 4)}. Zeroing one head at a time:</p><table><tr><th>head</th><th>Δ loss</th><th>max |Δ logit|</th></tr>${a.heads.map((x) => `<tr><td>L${x.layer} H${x.head}</td><td class="num">${fmt(x.dLoss, 4)}</td><td class="num">${fmt(x.maxAbsDLogit, 4)}</td></tr>`).join("")}</table>` : "<p>No ablation table for this page.</p>";
  html += `<p data-testid="ablated">${names.length ? `Ablated: ${names.join(", ")}` : "Tick “ablate” on a head in the model view to zero it."}</p>`;
  $("ablation").innerHTML = html;
}

function renderAll(): void {
  const t0 = performance.now();
  const p = P();
  document.title = `qkv · ${p.title}`;
  $("title").textContent = p.title;
  $("notes").innerHTML = p.notes.map((n) => `<div>${esc(n)}</div>`).join("");
  const ls = $<HTMLSelectElement>("layer"), hs = $<HTMLSelectElement>("head");
  ls.innerHTML = p.layers.map((l, i) => `<option value="${i}">${esc(l.name)}</option>`).join("");
  ls.value = String(qkv.layer);
  hs.innerHTML = Array.from({ length: L().H }, (_, h) => `<option value="${h}">head ${h}</option>`).join("");
  hs.value = String(qkv.head);
  $<HTMLSelectElement>("scale").value = heatScale;
  const ms = $<HTMLSelectElement>("map");
  ms.hidden = !p.layers.some((l) => l.grad);
  ms.value = qkv.map;
  for (const l of p.layers) decode(l.weights);
  qkv.decodeMs = performance.now() - t0;
  renderModelView();
  renderHeatmap();
  qkv.renderMs = performance.now() - t0; // the heatmaps: model view grid + selected head
  renderHeadView();
  renderParty();
  renderRolloutFlow();
  renderAblation();
  qkv.renders++;
  document.body.dataset.renders = String(qkv.renders);
}

function select(layer: number, head: number): void {
  qkv.layer = layer;
  qkv.head = Math.min(head, P().layers[layer].H - 1);
  qkv.query = Math.min(qkv.query, L().T - 1);
  renderAll();
}

function pointAt(query: number): void {
  if (query === qkv.query || query < 0 || query >= L().T) return;
  qkv.query = query;
  renderHeadView();
  renderParty();
}

function api(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(qkv.token)}`, init).then((r) => {
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r;
  });
}

async function toggleAblation(layer: number, head: number): Promise<void> {
  const k = key(layer, head);
  if (qkv.ablated.has(k)) qkv.ablated.delete(k);
  else qkv.ablated.add(k);
  if (qkv.served) {
    const heads = [...qkv.ablated].map((x) => ({ layer: Number(x.split(":")[0]), head: Number(x.split(":")[1]) }));
    const r = await api("/api/ablate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(heads) });
    setPayload((await r.json()) as Payload, false);
  } else {
    renderModelView();
    renderAblation();
  }
}

function setPayload(p: Payload, resetFocus: boolean): void {
  qkv.payload = p;
  qkv.cache.clear();
  qkv.attribution.clear();
  qkv.layer = Math.min(qkv.layer, p.layers.length - 1);
  if (resetFocus) qkv.query = p.focus;
  qkv.query = Math.min(qkv.query, p.layers[qkv.layer].T - 1);
  renderAll();
}

function drawLoss(): void {
  drawCurve($<HTMLCanvasElement>("loss"), qkv.losses);
}

/** A loss curve of [step, loss] points on `c`; its point count goes to data-points (for tests). */
function drawCurve(c: HTMLCanvasElement, pts: [number, number][]): void {
  const ctx = c.getContext("2d") as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, c.width, c.height);
  c.dataset.points = String(pts.length);
  if (pts.length === 0) return;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys, 0), y1 = Math.max(...ys, 1e-9);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(40, 10, c.width - 50, c.height - 30);
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(y1.toFixed(2), 2, 16);
  ctx.fillText(y0.toFixed(2), 2, c.height - 20);
  ctx.fillText(`step ${x1}`, c.width - 60, c.height - 4);
  ctx.strokeStyle = "#d0541a";
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach(([x, y], i) => {
    const px = 40 + ((x - x0) / (x1 - x0)) * (c.width - 50), py = 10 + (1 - (y - y0) / (y1 - y0)) * (c.height - 30);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
}

async function poll(): Promise<void> {
  try {
    const u = (await (await api(`/api/live?since=${qkv.losses.length}`)).json()) as LiveUpdate;
    qkv.losses.push(...u.points);
    drawLoss();
    const last = qkv.losses[qkv.losses.length - 1];
    $("loss-text").textContent = `${u.status ?? ""} ${last ? `step ${last[0]}: loss ${last[1].toFixed(4)}` : "waiting for the first step"}${u.done ? " (done)" : ""}`;
    if (u.version !== qkv.version) {
      qkv.version = u.version;
      setPayload((await (await api("/api/trace")).json()) as Payload, false);
    }
    if (!u.done) setTimeout(poll, 300);
  } catch (err) {
    $("loss-text").textContent = `live updates stopped: ${(err as Error).message}`;
  }
}

async function main(): Promise<void> {
  $("heatmap").addEventListener("mousemove", (ev) => {
    const c = ev.currentTarget as HTMLCanvasElement, r = c.getBoundingClientRect();
    pointAt(Math.floor(((ev.clientY - r.top) / r.height) * L().T));
  });
  $("headview").addEventListener("mousemove", (ev) => {
    const r = (ev.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    if (ev.clientX - r.left > 260) return;
    const y = ev.clientY - r.top;
    const hit = qkv.headViewRows.find((row) => Math.abs(row.y - y) <= 9);
    if (hit) pointAt(hit.i);
  });
  $("layer").addEventListener("change", (ev) => select(Number((ev.target as HTMLSelectElement).value), qkv.head));
  $("scale").addEventListener("change", (ev) => {
    heatScale = (ev.target as HTMLSelectElement).value as "linear" | "sqrt";
    renderAll();
  });
  $("map").addEventListener("change", (ev) => {
    qkv.map = (ev.target as HTMLSelectElement).value as "weights" | "grad";
    renderAll();
  });
  $("head").addEventListener("change", (ev) => select(qkv.layer, Number((ev.target as HTMLSelectElement).value)));
  const embedded = document.getElementById("qkv-data");
  const p = embedded ? (JSON.parse(embedded.textContent ?? "") as Payload) : ((await (await api("/api/trace")).json()) as Payload);
  // long inputs spread attention thin (weights ~ 1/T): a square-root scale keeps it visible
  heatScale = Math.max(...p.layers.map((l) => l.S)) > 64 ? "sqrt" : "linear";
  setPayload(p, true);
  $("live-section").hidden = !p.live;
  if (p.live && qkv.served) poll();
  document.body.dataset.ready = "1";
}

/** For tests and the bench: where a query token sits in the head view, in page coordinates. */
(window as unknown as { qkv: unknown }).qkv = {
  state: qkv,
  headViewPoint(i: number): { x: number; y: number } | null {
    const c = $("headview").getBoundingClientRect(), row = qkv.headViewRows.find((r) => r.i === i);
    return row ? { x: c.left + (row.x * c.width) / $<HTMLCanvasElement>("headview").width, y: c.top + row.y } : null;
  },
};

main().catch((err: Error) => {
  $("title").textContent = `qkv: ${err.message}`;
  document.body.dataset.error = err.message;
});
