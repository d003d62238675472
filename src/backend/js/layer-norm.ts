// Reference layer normalization over rows of x (N, C) (llm.c layernorm_forward/backward).
import type { FloatArray } from "../kernels.js";

export function layerNormForward(out: FloatArray, mean: FloatArray, rstd: FloatArray, x: FloatArray, weight: FloatArray | null, bias: FloatArray | null, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += x[o + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[o + c] - m) ** 2;
    v /= C; // biased variance, as PyTorch
    const s = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - m) * s;
      out[o + c] = xhat * (weight ? weight[c] : 1) + (bias ? bias[c] : 0);
    }
    mean[n] = m;
    rstd[n] = s;
  }
}

export function layerNormBackward(dx: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null, dout: FloatArray, x: FloatArray, mean: FloatArray, rstd: FloatArray, weight: FloatArray | null, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C, m = mean[n], s = rstd[n];
    // in the forward pass this was: out = xhat * w + b, xhat = (x - mean) * rstd
    let dnormMean = 0, dnormXhat = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - m) * s;
      const dnorm = dout[o + c] * (weight ? weight[c] : 1);
      dnormMean += dnorm;
      dnormXhat += dnorm * xhat;
      if (dweight) dweight[c] += dout[o + c] * xhat;
      if (dbias) dbias[c] += dout[o + c];
    }
    dnormMean /= C;
    dnormXhat /= C;
    // dx = rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat))
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - m) * s;
      const dnorm = dout[o + c] * (weight ? weight[c] : 1);
      dx[o + c] += s * (dnorm - dnormMean - xhat * dnormXhat);
    }
  }
}
