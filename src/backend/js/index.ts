// The reference backend: plain loops, the living spec for every other backend.
import type { Kernels } from "../kernels.js";
import { adamUpdate } from "./adam.js";
import { attentionBackward, attentionForward } from "./attention.js";
import { binary, cast, copyStrided, unary, unaryBackward, where } from "./elementwise.js";
import { argmax, gatherBackward, gatherForward } from "./gather.js";
import { layerNormBackward, layerNormForward } from "./layer-norm.js";
import { crossEntropyBackward, crossEntropyForward, embeddingBackward, embeddingForward } from "./loss.js";
import { matmul } from "./matmul.js";
import { reduce } from "./reduce.js";
import { logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward } from "./softmax.js";

export const jsKernels: Kernels = {
  unary, unaryBackward, binary, where, copyStrided, cast, reduce, argmax, gatherForward, gatherBackward, matmul,
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward,
  layerNormForward, layerNormBackward,
  crossEntropyForward, crossEntropyBackward, embeddingForward, embeddingBackward,
  attentionForward, attentionBackward, adamUpdate,
};
