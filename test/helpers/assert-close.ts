// assertClose: elementwise |a - e| <= atol + rtol * |e|, with the first mismatch and max diff in the message.
import assert from "node:assert/strict";
import { Tensor } from "../../src/tensor/tensor.js";

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

function flat(x: Tensor | ArrayLike<number> | number): number[] {
  if (x instanceof Tensor) return x.toFlatArray();
  if (typeof x === "number") return [x];
  return Array.from(x);
}

export function assertClose(actual: Tensor | ArrayLike<number> | number, expected: Tensor | ArrayLike<number> | number, tol: Tolerance = {}, what = "value"): void {
  const rtol = tol.rtol ?? 1e-5, atol = tol.atol ?? 1e-6;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape ${actual.shape} != expected ${expected.shape}`);
  }
  const a = flat(actual), e = flat(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  let maxDiff = 0, first = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    const ok = d <= atol + rtol * Math.abs(e[i]) || (Number.isNaN(a[i]) && Number.isNaN(e[i])) || a[i] === e[i];
    if (!ok && first < 0) first = i;
    if (!Number.isNaN(d)) maxDiff = Math.max(maxDiff, d);
  }
  if (first >= 0) assert.fail(`${what}: mismatch at index ${first}: got ${a[first]}, expected ${e[first]} (maxdiff ${maxDiff}, rtol ${rtol}, atol ${atol})`);
}

/** assertClose for tensors on any backend: reads GPU tensors with `await t.data()` first. */
export async function assertCloseAsync(actual: Tensor | ArrayLike<number> | number, expected: Tensor | ArrayLike<number> | number, tol: Tolerance = {}, what = "value"): Promise<void> {
  const host = async (x: typeof actual) => (x instanceof Tensor && !x.onHost ? Tensor.fromArray(await x.data(), x.shape, x.dtype) : x);
  assertClose(await host(actual), await host(expected), tol, what);
}
