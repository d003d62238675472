// KVCache: the keys and values each attention layer has seen, so decoding one token at a time
// costs O(S) per token instead of re-running the whole prefix.
import { concat } from "../ops/movement.js";
import type { Tensor } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";

/** Per-layer keys (B, G, S, D) and values (B, G, S, Dv), grown along S by `append`. */
export class KVCache {
  readonly #keys: (Tensor | null)[];
  readonly #values: (Tensor | null)[];

  constructor(readonly numLayers = 1) {
    check(Number.isInteger(numLayers) && numLayers > 0, "KVCache", `expected a positive layer count, got ${numLayers}`);
    this.#keys = new Array(numLayers).fill(null);
    this.#values = new Array(numLayers).fill(null);
  }

  /** Positions cached in `layer` (layer 0 by default): the absolute position of the next token. */
  length(layer = 0): number {
    this.#checkLayer(layer);
    return this.#keys[layer]?.shape[2] ?? 0;
  }

  /** Appends new k (B, G, T, D) and v (B, G, T, Dv) to `layer`; returns the full (B, G, S, .) k and v. */
  append(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    this.#checkLayer(layer);
    const prevK = this.#keys[layer], prevV = this.#values[layer];
    check(k.ndim === 4 && v.ndim === 4 && k.shape[2] === v.shape[2], "KVCache.append", () => `expected k (B, G, T, D) and v (B, G, T, Dv), got ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
    if (prevK && prevV) {
      const same = (a: Tensor, b: Tensor) => a.shape[0] === b.shape[0] && a.shape[1] === b.shape[1] && a.shape[3] === b.shape[3];
      check(same(prevK, k) && same(prevV, v), "KVCache.append", () => `new k ${fmtShape(k.shape)} / v ${fmtShape(v.shape)} do not match the cached ${fmtShape(prevK.shape)} / ${fmtShape(prevV.shape)}`);
    }
    const fullK = prevK ? concat([prevK, k], 2) : k; // (B, G, S, D)
    const fullV = prevV ? concat([prevV, v], 2) : v; // (B, G, S, Dv)
    this.#keys[layer] = fullK.detach();
    this.#values[layer] = fullV.detach();
    return { k: fullK, v: fullV };
  }

  /** Empties every layer. */
  reset(): void {
    this.#keys.fill(null);
    this.#values.fill(null);
  }

  #checkLayer(layer: number): void {
    check(Number.isInteger(layer) && layer >= 0 && layer < this.numLayers, "KVCache", `layer ${layer} is out of range [0, ${this.numLayers})`);
  }
}
