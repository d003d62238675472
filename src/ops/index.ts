// Differentiable functions: the only code that calls kernels. `import * as F from "../ops/index.js"`.
export * from "./attention.js";
export * from "./cast.js";
export * from "./dropout.js";
export * from "./elementwise.js";
export * from "./gather.js";
export * from "./layer-norm.js";
export * from "./loss.js";
export * from "./matmul.js";
export * from "./movement.js";
export * from "./reduce.js";
export * from "./softmax.js";
export * from "./update.js";
export * from "./alibi.js";
export * from "./rope.js";
export * from "./matmul-transposed.js";
export * from "./linear.js";
