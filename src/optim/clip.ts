// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
import type { Tensor } from "../tensor/tensor.js";

/** Scales all gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.values) sq += g * g;
  const total = Math.sqrt(sq);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const p of params) if (p.grad) {
    const g = p.grad.values;
    for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return total;
}
