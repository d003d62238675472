// gradCheck: jax's check_vjp in our setting. Draw a random tangent t and cotangent c (seeded);
// compare <t, vjp(c)> from our float32 backward with <(f(x + eps t) - f(x - eps t)) / 2 eps, c>
// computed in float64 by the same ops. One scalar per input per check, cheap at any size.
import assert from "node:assert/strict";
import { noGrad } from "../../src/autograd/no-grad.js";
import { cast } from "../../src/ops/cast.js";
import { randn } from "../../src/tensor/create.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

export interface GradCheckOptions {
  seed?: number;
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Indices of inputs to check (default: every float input). */
  wrt?: number[];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Checks f's gradient with respect to each float input. `f` must be written with qkv ops so that
 * it runs in float32 (the analytic side) and float64 (the finite-difference reference).
 */
export function gradCheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): void {
  const rng = new Rng(opts.seed ?? 1234);
  const eps = opts.eps ?? 1e-6, rtol = opts.rtol ?? 1e-3, atol = opts.atol ?? 1e-5;
  const wrt = opts.wrt ?? inputs.map((x, i) => (x.dtype === "float32" || x.dtype === "float64" ? i : -1)).filter((i) => i >= 0);
  // analytic side, float32
  const xs32 = inputs.map((x, i) => (wrt.includes(i) ? Tensor.fromArray(cast(x, "float32").values.slice(), x.shape, "float32", true) : x));
  const y32 = f(...xs32);
  const c = randn(y32.shape, rng, { dtype: "float64" });
  y32.backward(cast(c, "float32"));
  // reference side, float64
  const xs64 = inputs.map((x, i) => (wrt.includes(i) ? cast(x, "float64") : x));
  for (const i of wrt) {
    const t = randn(inputs[i].shape, rng, { dtype: "float64" });
    const grad = xs32[i].grad;
    assert.ok(grad !== null, `${name}: input ${i} got no gradient`);
    assert.deepEqual([...grad.shape], [...inputs[i].shape], `${name}: gradient of input ${i} has shape ${grad.shape}, expected ${inputs[i].shape}`);
    const analytic = dot(t.values, grad.values);
    const shifted = (sign: number) => {
      const x = xs64[i].values.slice() as Float64Array;
      for (let j = 0; j < x.length; j++) x[j] += sign * eps * t.values[j];
      const args = xs64.slice();
      args[i] = Tensor.fromArray(x, inputs[i].shape, "float64");
      return noGrad(() => f(...args));
    };
    const plus = shifted(1).values, minus = shifted(-1).values;
    const numeric = dot(c.values, Float64Array.from(plus, (v, j) => (v - minus[j]) / (2 * eps)));
    const ok = Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric);
    assert.ok(ok, `${name}: gradient of input ${i}: analytic <t, vjp(c)> = ${analytic}, finite difference = ${numeric}`);
  }
}
