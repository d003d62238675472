// The backend a test file runs on: QKV_BACKEND (js, wasm or webgpu), set up before the tests.
// webgpu needs the async setBackend; without an adapter it throws, so a webgpu run never passes
// silently on a machine that has no GPU (or no SwiftShader).
import assert from "node:assert/strict";
import { gpuAdapterName, initBackend } from "../../src/backend/select.js";
import { tensor } from "../../src/tensor/create.js";
import "../../src/node.js"; // registers the Node WebGPU provider (the webgpu package)

export async function useEnvBackend(): Promise<void> {
  const name = await initBackend();
  if (name !== "webgpu") return;
  assert.equal(tensor([1, 2]).onHost, false, "on webgpu, new tensors must live on the GPU");
  console.log(`# tests on webgpu: ${gpuAdapterName()}`);
}

/** The values of a tensor from any backend (GPU tensors read asynchronously). */
export { toHost } from "../../src/ops/place.js";
