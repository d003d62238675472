// Runs every compiled test file under build/test (optionally only some kind folders) with node --test,
// and fails when no test ran: node --test on Node 20 neither expands globs nor fails on zero tests.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = "build/test";
const kinds = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
};
walk(root);
const selected = kinds.length ? files.filter((f) => kinds.some((k) => f.startsWith(join(root, k) + "/"))) : files;
if (selected.length === 0) {
  console.error(`run-tests: no test files found under ${root}${kinds.length ? ` for ${kinds.join(", ")}` : ""}`);
  process.exit(1);
}
const res = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...selected], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
process.stdout.write(res.stdout);
const m = /^ℹ tests (\d+)/m.exec(res.stdout);
if (!m || Number(m[1]) === 0) {
  console.error("run-tests: zero tests ran");
  process.exit(1);
}
const count = (out, re) => Number(re.exec(out)?.[1] ?? 0);
let passed = count(res.stdout, /^ℹ pass (\d+)/m), failed = count(res.stdout, /^ℹ fail (\d+)/m);
let status = res.status ?? 1;
// The default backend (wasm where supported) ran above; the fixture and gradient suites run again on
// the js reference backend, so both pass (the backend parity tests compare the kernels directly).
const again = selected.filter((f) => ["reference", "grad"].some((k) => f.startsWith(join(root, k) + "/")));
if (!kinds.length && again.length && !process.env.QKV_BACKEND) {
  console.log(`run-tests: again with QKV_BACKEND=js: ${again.length} files`);
  const js = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...again], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, QKV_BACKEND: "js" } });
  const jsFailed = count(js.stdout, /^# fail (\d+)/m);
  // print the whole TAP log only when something failed; otherwise its summary
  process.stdout.write(js.status === 0 ? js.stdout.split("\n").filter((l) => /^# (tests|pass|fail) /.test(l)).map((l) => `js backend ${l}`).join("\n") + "\n" : js.stdout);
  passed += count(js.stdout, /^# pass (\d+)/m);
  failed += jsFailed;
  if (js.status !== 0) status = js.status ?? 1;
}
// The PyTorch-fixture suite once more on webgpu (in Node: the webgpu package; here SwiftShader, the CPU
// Vulkan driver Debian's chromium ships). Without an adapter the files fail: never a silent pass.
const onGpu = selected.filter((f) => f.startsWith(join(root, "reference") + "/"));
if (!kinds.length && onGpu.length && !process.env.QKV_BACKEND) {
  console.log(`run-tests: again with QKV_BACKEND=webgpu: ${onGpu.length} files`);
  const gpu = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...onGpu], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, QKV_BACKEND: "webgpu" } });
  process.stdout.write(gpu.status === 0 ? gpu.stdout.split("\n").filter((l) => /^# (tests|pass|fail) |tests on webgpu/.test(l)).map((l) => `webgpu backend ${l}`).join("\n") + "\n" : gpu.stdout);
  passed += count(gpu.stdout, /^# pass (\d+)/m);
  failed += count(gpu.stdout, /^# fail (\d+)/m);
  if (gpu.status !== 0) status = gpu.status ?? 1;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(status);
