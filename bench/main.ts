// npm run bench [-- --filter=NAME] [--smoke]: runs every build/bench/*.bench.js whose name matches.
// Each bench module exports `run(opts)`; benches verify their results before timing them.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv.find((a) => a.startsWith("--filter="))?.slice(9) ?? "";
const smoke = process.argv.includes("--smoke");
const files = readdirSync(here).filter((f) => f.endsWith(".bench.js") && f.includes(filter)).sort();
if (files.length === 0) {
  console.error(`bench: no bench matches ${JSON.stringify(filter)}`);
  process.exit(1);
}
for (const f of files) {
  console.log(`\n== ${f.replace(/\.bench\.js$/, "")}`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?(opts: { smoke: boolean }): Promise<void> };
  if (typeof mod.run === "function") await mod.run({ smoke });
  else console.log(`(no run() export: run node build/bench/${f} directly)`);
}
process.exit(0); // peers' worker threads would otherwise keep the process alive
