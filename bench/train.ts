// The small-model case: learn to reverse sequences (vocab 16, length 16) with one bidirectional
// self-attention layer of width 32 and 4 heads, token + position embeddings and a linear readout;
// batch 32, 300 Adam steps at lr 1e-2. Returns wall time and accuracy on a fresh batch.
import { Embedding, Linear, MultiHeadAttention, Adam, Rng, Tensor, add, argmax, crossEntropy, noGrad, reshape, manualSeed } from "../src/index.js";

export interface TrainResult { ms: number; accuracy: number; loss: number }

export function reversalTask(steps: number, seed = 0): TrainResult {
  const V = 16, T = 16, C = 32, H = 4, B = 32;
  manualSeed(seed);
  const rng = new Rng(seed + 1);
  const tok = new Embedding(V, C), pos = new Embedding(T, C);
  const attn = new MultiHeadAttention({ modelDim: C, numHeads: H });
  const head = new Linear(C, V);
  const params = [...tok.parameters(), ...pos.parameters(), ...attn.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 1e-2 });
  const positions = Tensor.fromArray(Int32Array.from({ length: T }, (_, i) => i), [T], "int32");
  const batch = (): [Tensor, Tensor] => {
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) x[b * T + t] = Math.floor(rng.next() * V);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) y[b * T + t] = x[b * T + T - 1 - t];
    return [Tensor.fromArray(x, [B, T], "int32"), Tensor.fromArray(y, [B * T], "int32")];
  };
  const logits = (x: Tensor): Tensor => reshape(head.forward(attn.forward(add(tok.forward(x), pos.forward(positions)))), [B * T, V]);
  const t0 = performance.now();
  let loss = NaN;
  for (let step = 0; step < steps; step++) {
    const [x, y] = batch();
    opt.zeroGrad();
    const l = crossEntropy(logits(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  }
  const ms = performance.now() - t0;
  const [x, y] = batch();
  const pred = noGrad(() => argmax(logits(x), -1)).values;
  let right = 0;
  for (let i = 0; i < B * T; i++) if (pred[i] === y.values[i]) right++;
  return { ms, accuracy: right / (B * T), loss };
}
