// npm run bench [-- --filter=NAME] [--smoke] [--backend webgpu]: runs every build/bench/*.bench.js
// whose name matches. --backend webgpu runs the WebGPU bench (kernels and training on the GPU).
// Each bench module exports `run(opts)`; benches verify their results before timing them.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const at = argv.indexOf("--backend");
const backend = argv.find((a) => a.startsWith("--backend="))?.slice(10) ?? (at >= 0 ? argv[at + 1] : undefined);
if (backend !== undefined && backend !== "webgpu") {
  console.error(`bench: --backend takes webgpu (the CPU backends are what the other benches measure), got ${JSON.stringify(backend)}`);
  process.exit(2);
}
const filter = argv.find((a) => a.startsWith("--filter="))?.slice(9) ?? (backend === "webgpu" ? "webgpu" : "");
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
