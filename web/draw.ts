// Drawing helpers of the visualizer page (a classic script loaded before page.ts): base64
// decoding, the viridis colour table and canvas heatmaps that pool big maps down to the canvas.

/** A decoded array: value i is data[i] * scale, squared when sq (uint8 maps stay bytes: no 4x float copy). */
interface Arr { data: Float32Array | Uint8Array; scale: number; sq?: boolean }

const val = (a: Arr, i: number) => (a.sq ? (a.data[i] * a.scale) ** 2 : a.data[i] * a.scale);

/** Heatmap colour scale: linear in the value, or in its square root (shows long-context weights ~ 1/T). */
let heatScale: "linear" | "sqrt" = "linear";

const B64 = new Uint8Array(128);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) => (B64[c.charCodeAt(0)] = i));

/** Base64 -> bytes with a lookup table (atob + charCodeAt is several times slower on big maps). */
function fromBase64(s: string): Uint8Array {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n = (B64[s.charCodeAt(i)] << 18) | (B64[s.charCodeAt(i + 1)] << 12) | (B64[s.charCodeAt(i + 2)] << 6) | B64[s.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

// viridis, 5 stops, interpolated into a 256-entry table
const LUT = (() => {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * 4, k = Math.min(3, Math.floor(x)), f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(stops[k][c] + f * (stops[k + 1][c] - stops[k][c]));
  }
  return lut;
})();
const color = (v: number) => { const i = Math.max(0, Math.min(255, Math.round(v * 255))) * 3; return `rgb(${LUT[i]},${LUT[i + 1]},${LUT[i + 2]})`; };
const diverging = (v: number) => (v >= 0 ? `rgba(214,96,77,${Math.min(1, v)})` : `rgba(67,147,195,${Math.min(1, -v)})`);

/**
 * Draws a (rows, cols) map into a canvas of at most `px` pixels a side: each pixel shows the max
 * of the block of cells it covers, so a 2048x2048 map costs one pass and keeps sharp peaks.
 */
function drawHeat(canvas: HTMLCanvasElement, arr: Arr, offset: number, rows: number, cols: number, px: number): void {
  const data = arr.data, scale = arr.scale;
  canvas.dataset.scale = heatScale;
  const cell = Math.max(1, Math.min(32, Math.floor(px / Math.max(rows, cols))));
  const ph = Math.min(rows, px), pw = Math.min(cols, px);
  canvas.width = Math.max(1, rows <= px && cols <= px ? cols * cell : pw);
  canvas.height = Math.max(1, rows <= px && cols <= px ? rows * cell : ph);
  const img = new ImageData(pw, ph);
  const px32 = new Uint32Array(img.data.buffer);
  const lut32 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) lut32[i] = (255 << 24) | (LUT[i * 3 + 2] << 16) | (LUT[i * 3 + 1] << 8) | LUT[i * 3];
  for (let y = 0; y < ph; y++) {
    const r0 = Math.floor((y * rows) / ph), r1 = Math.max(r0 + 1, Math.floor(((y + 1) * rows) / ph));
    for (let x = 0; x < pw; x++) {
      const c0 = Math.floor((x * cols) / pw), c1 = Math.max(c0 + 1, Math.floor(((x + 1) * cols) / pw));
      let m = 0;
      for (let r = r0; r < r1; r++) {
        const base = offset + r * cols;
        for (let c = c0; c < c1; c++) if (data[base + c] > m) m = data[base + c];
      }
      // the block max of raw data is the max of the values (both maps are monotonic)
      const v = m * scale, lin = arr.sq ? v * v : v, root = arr.sq ? v : Math.sqrt(v);
      px32[y * pw + x] = lut32[Math.min(255, Math.round((heatScale === "sqrt" ? root : lin) * 255))];
    }
  }
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  if (canvas.width === pw && canvas.height === ph) ctx.putImageData(img, 0, 0);
  else {
    const tmp = new OffscreenCanvas(pw, ph);
    (tmp.getContext("2d") as OffscreenCanvasRenderingContext2D).putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
  }
  canvas.dataset.rows = String(rows);
  canvas.dataset.cols = String(cols);
}

