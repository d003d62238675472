// Terminal colour for the qkv commands: truecolor when COLORTERM says so, else the xterm 256-colour
// cube, and plain text when NO_COLOR is set (https://no-color.org) or the stream is not a terminal.

export type ColorMode = "truecolor" | "256" | "none";
export type Rgb = readonly [number, number, number];

/** The mode for a stream: NO_COLOR wins, then FORCE_COLOR, then whether it is a TTY and COLORTERM. */
export function colorMode(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): ColorMode {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return "none";
  const forced = env.FORCE_COLOR;
  if (forced === "0" || forced === "false") return "none";
  if (!stream.isTTY && (forced === undefined || forced === "")) return "none";
  if (env.COLORTERM === "truecolor" || env.COLORTERM === "24bit" || forced === "3") return "truecolor";
  return "256";
}

/** Nearest xterm-256 index: the 6x6x6 cube (16..231) or the grey ramp (232..255). */
export function rgbTo256([r, g, b]: Rgb): number {
  const level = (v: number) => (v < 48 ? 0 : v < 115 ? 1 : Math.min(5, Math.floor((v - 35) / 40)));
  const cube = [0, 95, 135, 175, 215, 255];
  const [lr, lg, lb] = [level(r), level(g), level(b)];
  const cubeIndex = 16 + 36 * lr + 6 * lg + lb;
  const cubeErr = (cube[lr] - r) ** 2 + (cube[lg] - g) ** 2 + (cube[lb] - b) ** 2;
  const grey = Math.max(0, Math.min(23, Math.round(((r + g + b) / 3 - 8) / 10)));
  const gv = 8 + 10 * grey;
  const greyErr = (gv - r) ** 2 + (gv - g) ** 2 + (gv - b) ** 2;
  return greyErr < cubeErr ? 232 + grey : cubeIndex;
}

function sgr(mode: ColorMode, code: string, text: string): string {
  return mode === "none" || text === "" ? text : `\x1b[${code}m${text}\x1b[0m`;
}

/** Text in a foreground colour. */
export function fg(mode: ColorMode, rgb: Rgb, text: string): string {
  const code = mode === "truecolor" ? `38;2;${rgb.map(Math.round).join(";")}` : `38;5;${rgbTo256(rgb)}`;
  return sgr(mode, code, text);
}

export function bold(mode: ColorMode, text: string): string {
  return sgr(mode, "1", text);
}

export function dim(mode: ColorMode, text: string): string {
  return sgr(mode, "2", text);
}

export const GREEN: Rgb = [80, 200, 120];
export const RED: Rgb = [235, 80, 80];

// Stops of matplotlib's viridis: dark blue (little) -> green -> yellow (much); readable on dark and light backgrounds.
const VIRIDIS: Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** The colormap at t in [0, 1]: piecewise-linear viridis. */
export function heat(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A horizontal bar of `width` cells filled to `fraction` in eighths of a cell, padded with spaces. */
export function barText(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const text = "█".repeat(full) + EIGHTHS[eighths % 8];
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

/** barText coloured by the heat colormap at `fraction` (or by `rgb`). */
export function colorBar(mode: ColorMode, fraction: number, width: number, rgb?: Rgb): string {
  const text = barText(fraction, width);
  const filled = text.trimEnd();
  return fg(mode, rgb ?? heat(fraction), filled) + text.slice(filled.length);
}

/** Removes SGR escape sequences (for measuring and for tests). */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
