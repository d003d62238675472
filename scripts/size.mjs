// Lines per source file (tinygrad's sz.py idea): warn above 400 lines, fail above 800.
// Usage: node scripts/size.mjs [folder ...]   (default: src and, when present, web)
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const WARN = 400, MAX = 800;
const EXT = /\.(ts|mts|js|mjs|css|html|wat)$/;
const SKIP = /(^|\/)(node_modules|dist|build)(\/|$)|\.generated\./;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["src", "web"].filter((d) => existsSync(d));

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (SKIP.test(p)) continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (EXT.test(name)) files.push(p);
  }
};
roots.forEach(walk);

const rows = files.map((f) => {
  const text = readFileSync(f, "utf8");
  const lines = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  return { f, lines };
}).sort((a, b) => b.lines - a.lines);

let total = 0, warned = 0, failed = 0;
for (const { f, lines } of rows) {
  total += lines;
  const flag = lines > MAX ? "  FAIL (over 800)" : lines > WARN ? "  warn (over 400)" : "";
  if (lines > MAX) failed++;
  else if (lines > WARN) warned++;
  console.log(`${String(lines).padStart(6)}  ${f}${flag}`);
}
console.log(`${String(total).padStart(6)}  total in ${rows.length} files under ${roots.join(", ")}; ${warned} over ${WARN}, ${failed} over ${MAX}`);
if (failed > 0) {
  console.error(`size: ${failed} file(s) over the hard cap of ${MAX} lines`);
  process.exit(1);
}
