// The party model: one cross-attention layer that answers "what is <target>'s story?".
//   guest_n  = name[n] + story[n]                      (B, N, C)  the introductions
//   question = asker[a] + about[target]                (B, 1, C)  a separate table: not a name badge
//   heard    = softmax(question W^Q (guests W^K)^T / sqrt(D)) guests W^V, then W^O   (B, 1, C)
//   logits   = heard W_r + b_r                         (B, V_story)
// W^Q and W^K must learn to match about[x] with name[x]; W^V and the readout to carry the story home.
import { reshape } from "../ops/movement.js";
import { add } from "../ops/elementwise.js";
import type { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import type { Rng } from "../util/random.js";
import { MultiHeadAttention } from "./attention.js";
import { Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { Module } from "./module.js";

export interface PartyModelConfig {
  /** Size of the name pool. */
  numNames: number;
  /** Size of the story pool (the readout's classes). */
  numStories: number;
  /** C: width of every token (default 32). */
  modelDim?: number;
  /** H: attention heads (default 1, so the party map shows one distribution). */
  numHeads?: number;
  /**
   * Init std of the four embedding tables (default 1, as torch.nn.Embedding). Unit entries give
   * W^Q and W^K gradients large enough that plain SGD leaves the uniform-attention plateau early;
   * with 1/sqrt(C) it sat there for hundreds of steps at 8 guests and never left it at 16.
   */
  embeddingStd?: number;
  rng?: Rng;
}

export interface PartyOutput {
  logits: Tensor; // (B, V_story)
  /** Attention of the question over the guests (B, H, N), when asked for; not differentiable. */
  weights: Tensor | null;
}

export class PartyModel extends Module {
  readonly name: Embedding; // (numNames, C): a guest's name badge
  readonly story: Embedding; // (numStories, C)
  readonly asker: Embedding; // (numNames, C): who asks
  readonly about: Embedding; // (numNames, C): whom the question is about
  readonly attn: MultiHeadAttention;
  readonly readout: Linear; // (C, numStories)
  readonly modelDim: number;

  constructor(config: PartyModelConfig) {
    super();
    const C = config.modelDim ?? 32;
    const rng = config.rng;
    const emb = { std: config.embeddingStd ?? 1, rng };
    this.modelDim = C;
    this.name = new Embedding(config.numNames, C, emb);
    this.story = new Embedding(config.numStories, C, emb);
    this.asker = new Embedding(config.numNames, C, emb);
    this.about = new Embedding(config.numNames, C, emb);
    this.attn = new MultiHeadAttention({ modelDim: C, numHeads: config.numHeads ?? 1, rng });
    this.readout = new Linear(C, config.numStories, { rng });
  }

  /**
   * names, stories: int32 (B, N); askerName, targetName: int32 (B).
   * Returns story logits (B, V_story) and, with returnWeights, the attention (B, H, N).
   */
  forward(names: Tensor, stories: Tensor, askerName: Tensor, targetName: Tensor, opts: { returnWeights?: boolean } = {}): PartyOutput {
    const fn = "PartyModel.forward";
    check(names.ndim === 2 && stories.ndim === 2 && names.shape[0] === stories.shape[0] && names.shape[1] === stories.shape[1], fn, () => `expected names and stories (B, N), got ${fmtShape(names.shape)} and ${fmtShape(stories.shape)}`);
    const [B, N] = names.shape;
    check(askerName.ndim === 1 && askerName.shape[0] === B && targetName.ndim === 1 && targetName.shape[0] === B, fn, () => `expected askerName and targetName (${B},), got ${fmtShape(askerName.shape)} and ${fmtShape(targetName.shape)}`);
    const C = this.modelDim;
    const guests = add(this.name.forward(names), this.story.forward(stories)); // (B, N, C)
    const question = reshape(add(this.asker.forward(askerName), this.about.forward(targetName)), [B, 1, C]); // (B, 1, C)
    let heard: Tensor;
    let weights: Tensor | null = null;
    if (opts.returnWeights) {
      const res = this.attn.forward(question, { context: guests, returnWeights: true });
      heard = res.output;
      weights = reshape(res.weights, [B, this.attn.numHeads, N]); // (B, H, 1, N) -> (B, H, N)
    } else {
      heard = this.attn.forward(question, { context: guests });
    }
    const logits = this.readout.forward(reshape(heard, [B, C])); // (B, V_story)
    return { logits, weights };
  }
}
