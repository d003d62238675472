// Node-only entry (qkv/node): things that need Node built-ins.
import { setFlagsFromString } from "node:v8";
import { relaxedSimdBytes } from "./backend/wasm/runtime.js";

// Node 20 ships relaxed SIMD behind a flag; turn it on before the kernels compile (a no-op later).
if (!WebAssembly.validate(relaxedSimdBytes())) setFlagsFromString("--experimental-wasm-relaxed-simd");

export { useThreads, stopThreads } from "./node/threads.js";
