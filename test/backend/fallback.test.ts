// An engine without WebAssembly SIMD: the library falls back to the js kernels with one notice.
// Simulated in a child process whose WebAssembly.validate refuses every module.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const index = fileURLToPath(new URL("../../src/index.js", import.meta.url));

test("fallback: no wasm SIMD -> js backend, one clear notice, correct results", () => {
  const script = `
    WebAssembly.validate = () => false;
    const qkv = await import(${JSON.stringify(index)});
    const a = qkv.tensor([[1, 2], [3, 4]]);
    const y = qkv.matmul(a, a);
    const s = qkv.softmax(qkv.tensor([[1, 2, 3]]));
    console.log(JSON.stringify({ backend: qkv.getBackend(), y: y.toFlatArray(), s: s.toFlatArray().map((v) => +v.toFixed(4)) }));
    qkv.setBackend("wasm");
    console.log(qkv.getBackend());
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, QKV_BACKEND: "" } });
  assert.equal(r.status, 0, r.stderr);
  const [first, second] = r.stdout.trim().split("\n");
  assert.deepEqual(JSON.parse(first), { backend: "js", y: [7, 10, 15, 22], s: [0.09, 0.2447, 0.6652] });
  assert.equal(second, "js");
  const notices = r.stderr.split("\n").filter((l) => l.includes("WebAssembly SIMD"));
  assert.equal(notices.length, 1, `expected one notice, got stderr: ${r.stderr}`);
});

test("QKV_BACKEND picks the initial backend in Node", () => {
  for (const name of ["js", "wasm"]) {
    const script = `const qkv = await import(${JSON.stringify(index)}); console.log(qkv.getBackend());`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, QKV_BACKEND: name } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), name);
  }
});
