// WGSL batched matmul, out[b] (= or +=) op(A[b]) . op(B[b]); see Kernels.matmul.
// A 16x16 workgroup computes a 32x32 output tile, each thread 2x2 outputs (rows ly, ly+16; cols
// lx, lx+16), stepping through K in slices of 16 staged in workgroup memory. Transposes only change
// how a slice is loaded; the loads are laid out so neighbouring threads read neighbouring addresses.
import { type GpuArray, type GpuContext, Params, PARAMS_WGSL } from "./context.js";

const TILE = 32, KT = 16;

function matmulWgsl(transA: boolean, transB: boolean, accumulate: boolean): string {
  // element e of the 512 in a slice: which (m, k) of the A tile and (k, n) of the B tile it loads
  const aLoad = transA
    ? "let m = e % 32u; let k = e / 32u; let src = ao + (k0 + k) * M + row0 + m;"
    : "let m = e / 16u; let k = e % 16u; let src = ao + (row0 + m) * K + k0 + k;";
  const bLoad = transB
    ? "let k = e % 16u; let n = e / 16u; let src = bo + (col0 + n) * K + k0 + k;"
    : "let n = e % 32u; let k = e / 32u; let src = bo + (k0 + k) * N + col0 + n;";
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
var<workgroup> As: array<f32, ${KT * TILE}>; // As[k * 32 + m]
var<workgroup> Bs: array<f32, ${KT * TILE}>; // Bs[k * 32 + n]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let M = pu(0); let K = pu(1); let N = pu(2);
  let ao = wid.z * pu(3);
  let bo = wid.z * pu(4);
  let row0 = wid.y * 32u;
  let col0 = wid.x * 32u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var r = 0u; r < 2u; r++) {
      let e = li + r * 256u;
      {
        ${aLoad}
        As[k * 32u + m] = select(0.0, A[src], row0 + m < M && k0 + k < K);
      }
      {
        ${bLoad}
        Bs[k * 32u + n] = select(0.0, B[src], col0 + n < N && k0 + k < K);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let a0 = As[k * 32u + lid.y];
      let a1 = As[k * 32u + lid.y + 16u];
      let b0 = Bs[k * 32u + lid.x];
      let b1 = Bs[k * 32u + lid.x + 16u];
      acc[0] += a0 * b0; acc[1] += a0 * b1; acc[2] += a1 * b0; acc[3] += a1 * b1;
    }
    workgroupBarrier();
  }
  let oo = wid.z * M * N;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + lid.y + (r / 2u) * 16u;
    let col = col0 + lid.x + (r % 2u) * 16u;
    if (row < M && col < N) {
      let o = oo + row * N + col;
      out[o] = ${accumulate ? "out[o] + acc[r]" : "acc[r]"};
    }
  }
}`;
}

export function matmul(ctx: GpuContext, out: GpuArray, a: GpuArray, b: GpuArray, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  if (batch > 65535) throw new Error(`webgpu.matmul: batch ${batch} > 65535`);
  const p = new Params().u(M).u(K).u(N).u(aStride).u(bStride);
  ctx.run(matmulWgsl(transA, transB, accumulate), p, [out, a, b], [Math.ceil(N / TILE), Math.ceil(M / TILE), batch]);
}
