// qkv/node: Node-only helpers (file access, threads). The browser-safe library is the "qkv" entry (src/index.ts).
import { setFlagsFromString } from "node:v8";
import { setGpuProvider } from "./backend/select.js";
import { relaxedSimdBytes } from "./backend/wasm/runtime.js";
import { requestNodeGpuDevice } from "./node/webgpu.js";

// Node 20 ships relaxed SIMD behind a flag; turn it on before the kernels compile (a no-op later).
if (!WebAssembly.validate(relaxedSimdBytes())) setFlagsFromString("--experimental-wasm-relaxed-simd");

// Node has no navigator.gpu: `await setBackend('webgpu')` gets its device from the webgpu package (Dawn)
setGpuProvider(() => requestNodeGpuDevice());

export { useThreads, stopThreads } from "./node/threads.js";
export { writeFileAtomic, fsyncDir } from "./node/atomic-write.js";
export { saveCheckpoint, loadCheckpoint, loadCheckpointDir, listCheckpoints, stepDirName, LATEST_FILE, type SaveCheckpointOptions, type LoadedCheckpoint } from "./node/checkpoint.js";
export type { Checkpoint } from "./io/checkpoint.js";
export { loadPretrained, saveHfGpt2, isHfGpt2Dir, loadGpt, HF_CONFIG_FILE, HF_WEIGHTS_FILE, HF_TOKENIZER_FIELD, type LoadedGpt } from "./node/pretrained.js";
export { requestNodeGpuDevice, CHROMIUM_SWIFTSHADER_ICD, type NodeGpu, type NodeGpuOptions } from "./node/webgpu.js";
