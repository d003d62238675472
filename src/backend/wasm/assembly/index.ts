// Entry of the wasm kernels module (AssemblyScript). Every export takes byte offsets into the
// imported memory; kernels that split work claim units from a shared counter (see common.ts).
export { matmulPack, matmulRun } from "./matmul";
export {
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward,
  layerNormForward, layerNormBackward, layerNormBackwardParams,
  crossEntropyForward, crossEntropyBackward, embeddingBackward,
} from "./rows";
export { unary, unaryBackward, adamUpdate } from "./elementwise";
export { attnScratchFloats, attnDqOffset, attnForward, attnDelta, attnBackward, attnSumDq } from "./attention";

/** First free byte after the module's static data; the JS arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
