// Terminal helpers shared by the commands: colour mode from the environment, 256-colour mapping,
// bars in eighths, and the progress bar's three modes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { barText, colorBar, colorMode, fg, heat, rgbTo256, stripAnsi } from "../../src/cli/color.js";
import { formatDuration, ProgressBar } from "../../src/cli/progress.js";

test("colorMode: NO_COLOR and non-terminals get plain text; COLORTERM=truecolor gets 24-bit", () => {
  const tty = { isTTY: true }, pipe = { isTTY: false };
  assert.equal(colorMode(tty, { COLORTERM: "truecolor" }), "truecolor");
  assert.equal(colorMode(tty, {}), "256");
  assert.equal(colorMode(tty, { NO_COLOR: "1", COLORTERM: "truecolor" }), "none");
  assert.equal(colorMode(pipe, { COLORTERM: "truecolor" }), "none");
  assert.equal(colorMode(tty, { NO_COLOR: "" }), "256"); // no-color.org: only a non-empty value counts
  assert.equal(colorMode(pipe, { FORCE_COLOR: "1" }), "256");
});

test("fg: truecolor and 256-colour escapes, and none leaves the text alone", () => {
  assert.equal(fg("truecolor", [10, 20, 30], "x"), "\x1b[38;2;10;20;30mx\x1b[0m");
  assert.equal(fg("256", [255, 0, 0], "x"), "\x1b[38;5;196mx\x1b[0m");
  assert.equal(fg("none", [255, 0, 0], "x"), "x");
});

test("rgbTo256: cube corners and greys map to xterm indices", () => {
  assert.equal(rgbTo256([0, 0, 0]), 16);
  assert.equal(rgbTo256([255, 255, 255]), 231);
  assert.equal(rgbTo256([0, 0, 255]), 21);
  assert.equal(rgbTo256([128, 128, 128]), 244);
});

test("barText: fills in eighths of a cell and always has the given width", () => {
  assert.equal(barText(0, 4), "    ");
  assert.equal(barText(1, 4), "████");
  assert.equal(barText(0.5, 4), "██  ");
  assert.equal(barText(1 / 32, 4), "▏   ");
  assert.equal(barText(2, 3), "███");
  assert.equal(barText(NaN, 3), "   ");
  assert.equal(stripAnsi(colorBar("256", 0.25, 8)), "██      ");
});

test("heat: runs from viridis dark purple to yellow", () => {
  assert.deepEqual(heat(0), [68, 1, 84]);
  assert.deepEqual(heat(1), [253, 231, 37]);
});

function sink() {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY: false, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream };
}

test("ProgressBar lines mode: about ten plain lines, the last at the end, no escapes", () => {
  const { chunks, stream } = sink();
  let clock = 0;
  const bar = new ProgressBar({ total: 100, label: "train", stream, now: () => clock });
  for (let i = 1; i <= 100; i++) {
    clock += 10;
    bar.update(i, { loss: "1.0" });
  }
  bar.finish(100, { loss: "0.5" });
  assert.equal(chunks.length, 10);
  assert.ok(chunks.every((c) => !c.includes("\x1b") && c.endsWith("\n")));
  assert.match(chunks[0], /^train .* 10\/100  10%  loss 1\.0  0\.1s ETA 0\.9s\n$/);
  assert.match(chunks[9], /100\/100 100%/);
});

test("ProgressBar tty mode redraws in place; silent mode writes nothing", () => {
  const { chunks, stream } = sink();
  let clock = 0;
  const bar = new ProgressBar({ total: 10, stream, mode: "tty", now: () => clock });
  for (let i = 1; i <= 10; i++) {
    clock += 100;
    bar.update(i);
  }
  bar.finish(10);
  assert.ok(chunks.every((c) => c.startsWith("\r\x1b[2K")));
  assert.ok(chunks.at(-1)?.endsWith("\n"));
  // a pty that reports 0 columns (script(1)) still gets the figures, not a lone ellipsis
  const zero = sink();
  Object.assign(zero.stream, { columns: 0 });
  new ProgressBar({ total: 10, stream: zero.stream, mode: "tty", label: "train" }).finish(10, { loss: "0.5" });
  assert.match(zero.chunks[0], /10\/10 100%  loss 0\.5/);
  const narrow = sink();
  Object.assign(narrow.stream, { columns: 30 });
  new ProgressBar({ total: 10, stream: narrow.stream, mode: "tty" }).finish(10);
  assert.equal([...narrow.chunks[0].replace("\r\x1b[2K", "").trimEnd()].length, 29, "cut to the terminal width");
  const quiet = sink();
  const silent = new ProgressBar({ total: 10, stream: quiet.stream, mode: "silent" });
  silent.update(5);
  silent.finish(10);
  assert.equal(quiet.chunks.length, 0);
});

test("formatDuration: seconds with one decimal, minutes past a minute", () => {
  assert.equal(formatDuration(4.24), "4.2s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(NaN), "?");
});
