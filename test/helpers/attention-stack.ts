// A small stack of self-attention blocks (x + attn(x), no MLP) with an embedding and an output
// projection: enough structure for traces, rollout, flow and ablation tests and the visualizer bench.
import { Embedding } from "../../src/nn/embedding.js";
import { Linear } from "../../src/nn/linear.js";
import { Module } from "../../src/nn/module.js";
import { MultiHeadAttention } from "../../src/nn/attention.js";
import { crossEntropy } from "../../src/ops/loss.js";
import { add } from "../../src/ops/elementwise.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

export class AttentionStack extends Module {
  readonly emb: Embedding;
  readonly layers: MultiHeadAttention[];
  readonly head: Linear;
  constructor(readonly cfg: { vocab: number; dim: number; layers: number; heads: number; seed?: number; causal?: boolean }) {
    super();
    const rng = new Rng(cfg.seed ?? 1);
    this.emb = new Embedding(cfg.vocab, cfg.dim, { rng });
    this.layers = Array.from({ length: cfg.layers }, () => new MultiHeadAttention({ modelDim: cfg.dim, numHeads: cfg.heads, isCausal: cfg.causal ?? true, rng }));
    this.head = new Linear(cfg.dim, cfg.vocab, { rng });
  }
  /** ids (B, T) int32 -> logits (B, T, V); loss when targets are given. */
  forward(ids: Tensor, opts: { mask?: Tensor; targets?: Tensor } = {}): { logits: Tensor; loss?: Tensor } {
    let x = this.emb.forward(ids);
    for (const l of this.layers) x = add(x, l.forward(x, { mask: opts.mask }));
    const logits = this.head.forward(x);
    if (!opts.targets) return { logits };
    const [B, T, V] = logits.shape;
    return { logits, loss: crossEntropy(logits.reshape([B * T, V]), opts.targets.reshape([B * T])) };
  }
}

export const ids = (xs: number[][]): Tensor => Tensor.fromArray(Int32Array.from(xs.flat()), [xs.length, xs[0].length], "int32");
