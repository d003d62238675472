// Reference Adam/AdamW update, following torch.optim.Adam and torch.optim.AdamW (non-amsgrad).
import type { AdamParams, FloatArray } from "../kernels.js";

export function adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number, p: AdamParams): void {
  const bc1 = 1 - p.beta1 ** p.step;
  const bc2 = 1 - p.beta2 ** p.step;
  const stepSize = p.lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < n; i++) {
    let g = grad[i];
    if (p.decoupled) param[i] *= 1 - p.lr * p.weightDecay;
    else if (p.weightDecay !== 0) g += p.weightDecay * param[i];
    m[i] = p.beta1 * m[i] + (1 - p.beta1) * g;
    v[i] = p.beta2 * v[i] + (1 - p.beta2) * g * g;
    // w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
    param[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + p.eps);
  }
}
