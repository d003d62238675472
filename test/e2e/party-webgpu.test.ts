// qkv party on the webgpu backend in Node (the webgpu package; here SwiftShader): the same run as on
// wasm reaches the same accuracy and hit rate, for Adam and SGD. Without an adapter the CLI exits 1
// naming what is missing, so this fails rather than passing silently. Timings are printed only.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastJson, runQkv as qkv } from "../helpers/cli.js";

async function party(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, number | string>> {
  const { code, stdout, stderr } = await qkv(["party", "--json", "--steps", "200", ...args], env);
  assert.equal(code, 0, stderr);
  return lastJson(stdout) as Record<string, number | string>;
}

for (const optimizer of ["adam", "sgd"]) {
  test(`qkv party --backend webgpu (${optimizer}, 200 steps) reaches the accuracy of the same run on wasm`, { timeout: 600_000 }, async () => {
    const wasm = await party(["--optimizer", optimizer, "--backend", "wasm"]);
    const gpu = await party(["--optimizer", optimizer, "--backend", "webgpu"]);
    console.log(`# party ${optimizer}: wasm accuracy ${wasm.accuracy} hit ${wasm.attentionHitRate} (${wasm.trainSeconds} s); webgpu accuracy ${gpu.accuracy} hit ${gpu.attentionHitRate} (${gpu.trainSeconds} s)`);
    assert.equal(wasm.backend, "wasm");
    assert.equal(gpu.backend, "webgpu");
    assert.ok((wasm.accuracy as number) >= 0.99, `wasm accuracy ${wasm.accuracy}`);
    assert.ok(Math.abs((gpu.accuracy as number) - (wasm.accuracy as number)) <= 0.005, `webgpu accuracy ${gpu.accuracy} vs wasm ${wasm.accuracy}`);
    assert.ok(Math.abs((gpu.attentionHitRate as number) - (wasm.attentionHitRate as number)) <= 0.01, `webgpu hit rate ${gpu.attentionHitRate} vs wasm ${wasm.attentionHitRate}`);
    // float32 on a GPU is not bit-identical to the CPU, but the same run stays close
    assert.ok(Math.abs((gpu.evalLoss as number) - (wasm.evalLoss as number)) <= 0.01 + 0.1 * (wasm.evalLoss as number), `eval loss ${gpu.evalLoss} vs ${wasm.evalLoss}`);
  });
}

test("QKV_BACKEND=webgpu selects the GPU for the CLI; --serve with webgpu is a usage error", { timeout: 120_000 }, async () => {
  const gpu = await party(["--steps", "3"], { QKV_BACKEND: "webgpu" });
  assert.equal(gpu.backend, "webgpu");
  const bad = await qkv(["party", "--backend", "webgpu", "--serve"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--serve and --html need a host backend/);
  const unknown = await qkv(["party", "--backend", "cuda"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--backend: expected one of js, wasm, webgpu, got "cuda"/);
});
