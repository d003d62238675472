// qkv: attention (Query/Key/Value) and small transformers. Browser-safe public API.
export { Tensor, type TensorLike, type KeepDim } from "./tensor/tensor.js";
export type { DType, Storage } from "./tensor/storage.js";
export { tensor, zeros, ones, full, arange, randn, rand, type CreateOptions } from "./tensor/create.js";
export { noGrad, isGradEnabled } from "./autograd/no-grad.js";
export * from "./ops/index.js";
export { setBackend, getBackend, type BackendName } from "./backend/select.js";
export type { Kernels } from "./backend/kernels.js";
export { Rng } from "./util/random.js";
export { Module } from "./nn/module.js";
export { manualSeed } from "./nn/init.js";
export { Linear, type LinearOptions } from "./nn/linear.js";
export { Embedding } from "./nn/embedding.js";
export { LayerNorm } from "./nn/layer-norm.js";
export { MultiHeadAttention, type MultiHeadAttentionOptions, type AttentionForwardOptions } from "./nn/attention.js";
export { Optimizer, type ParamGroup, type Params } from "./optim/optimizer.js";
export { SGD, type SGDOptions } from "./optim/sgd.js";
export { Adam, AdamW, type AdamOptions } from "./optim/adam.js";
export { clipGradNorm } from "./optim/clip.js";
