// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
import { noGrad } from "../autograd/no-grad.js";
import { add, mul, sqrt } from "../ops/elementwise.js";
import { sum } from "../ops/reduce.js";
import { assign } from "../ops/update.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";

/** Scales all gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. Host gradients. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  check(params.every((p) => p.grad === null || p.grad.onHost), "clipGradNorm", "gradients live on the GPU; use `await clipGradNormAsync(params, maxNorm)`");
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

/** The global L2 norm of the gradients as a 0-d tensor where they live (no read): the device half of clipping. */
export function gradNorm(params: Tensor[]): Tensor {
  return noGrad(() => {
    const parts = params.filter((p) => p.grad !== null).map((p) => sum(mul(p.grad as Tensor, p.grad as Tensor)));
    return sqrt(parts.reduce((a, b) => add(a, b)));
  });
}

/** clipGradNorm for gradients on any backend: one asynchronous read of the norm, then a scale on the device. */
export async function clipGradNormAsync(params: Tensor[], maxNorm: number): Promise<number> {
  if (!params.some((p) => p.grad !== null)) return 0;
  const total = await gradNorm(params).itemAsync();
  scaleToNorm(params, total, maxNorm);
  return total;
}

/** Given the gradients' global norm `total`, scales them in place on their backend so it is at most maxNorm. */
export function scaleToNorm(params: Tensor[], total: number, maxNorm: number): void {
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) noGrad(() => {
    for (const p of params) if (p.grad) assign(p.grad, mul(p.grad, coef));
  });
}
