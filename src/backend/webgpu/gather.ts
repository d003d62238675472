// WGSL argmax and torch.gather over an (outer, n, inner) view; mirrors src/backend/js/gather.ts.
// One thread per output. The gather backward gives each dx element its own thread, which scans the
// m indices that could point at it: deterministic, with no float atomics (WGSL has none).
import { type GpuArray, type GpuContext, grid, INDEX_WGSL, Params, PARAMS_WGSL, WG, wgslType } from "./context.js";

export function argmax(ctx: GpuContext, out: GpuArray, x: GpuArray, outer: number, n: number, inner: number): void {
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> X: array<${wgslType(x.dtype)}>;
${INDEX_WGSL}
  let n = pu(1); let inner = pu(2);
  if (i >= pu(0) * inner) { return; }
  let base = (i / inner) * n * inner + i % inner;
  var best = 0u;
  var bv = X[base];
  for (var j = 1u; j < n; j++) {
    let v = X[base + j * inner];
    if (v > bv) { best = j; bv = v; }
  }
  out[i] = i32(best);
}`;
  ctx.run(code, new Params().u(outer).u(n).u(inner), [out, x], grid(Math.ceil((outer * inner) / WG)));
}

export function gatherForward(ctx: GpuContext, out: GpuArray, x: GpuArray, index: GpuArray, outer: number, n: number, m: number, inner: number): void {
  const t = wgslType(out.dtype);
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> X: array<${wgslType(x.dtype)}>;
@group(0) @binding(3) var<storage, read> I: array<i32>;
${INDEX_WGSL}
  let n = pu(1); let m = pu(2); let inner = pu(3);
  if (i >= pu(0) * m * inner) { return; }
  let o = i / (m * inner); let k = i % inner;
  let j = I[i];
  // an index the host could not check (it lives on the GPU) reads 0 when out of range
  out[i] = select(${t}(0), ${t}(X[(o * n + u32(j)) * inner + k]), j >= 0 && u32(j) < n);
}`;
  ctx.run(code, new Params().u(outer).u(n).u(m).u(inner), [out, x, index], grid(Math.ceil((outer * m * inner) / WG)));
}

export function gatherBackward(ctx: GpuContext, dx: GpuArray, dout: GpuArray, index: GpuArray, outer: number, n: number, m: number, inner: number): void {
  const code = `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> dX: array<f32>;
@group(0) @binding(2) var<storage, read> dO: array<f32>;
@group(0) @binding(3) var<storage, read> I: array<i32>;
${INDEX_WGSL}
  let n = pu(1); let m = pu(2); let inner = pu(3);
  if (i >= pu(0) * n * inner) { return; }
  let o = i / (n * inner); let j = i32((i / inner) % n); let k = i % inner;
  var acc = 0.0;
  for (var jj = 0u; jj < m; jj++) {
    let at = (o * m + jj) * inner + k;
    if (I[at] == j) { acc += dO[at]; }
  }
  dX[i] += acc;
}`;
  ctx.run(code, new Params().u(outer).u(n).u(m).u(inner), [dx, dout, index], grid(Math.ceil((outer * n * inner) / WG)));
}
