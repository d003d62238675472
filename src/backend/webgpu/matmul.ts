// WGSL batched matmul, out[b] (= or +=) op(A[b]) . op(B[b]); see Kernels.matmul.
// A 16x16 workgroup computes a 64x64 output tile, each thread a 4x4 block (rows 4ty..4ty+3, cols
// 4tx..4tx+3) held in four vec4 accumulators, stepping through K in slices of 16 staged in workgroup
// memory as vec4s along m and n. Per k a thread reads one vec4 of A and one of B and does 16 FMAs.
// Transposes only change how a slice is loaded; each load is laid out so that neighbouring threads
// read neighbouring addresses of the matrix's storage.
import { type GpuArray, type GpuContext, Params, PARAMS_WGSL } from "./context.js";

const TILE = 64, KT = 16;

function matmulWgsl(transA: boolean, transB: boolean, accumulate: boolean): string {
  // element e of the 1024 in a slice: which (m, k) of the A tile and (k, n) of the B tile it loads
  const aLoad = transA
    ? "let m = e % 64u; let k = e / 64u; let src = ao + (k0 + k) * M + row0 + m;"
    : "let m = e / 16u; let k = e % 16u; let src = ao + (row0 + m) * K + k0 + k;";
  const bLoad = transB
    ? "let k = e % 16u; let n = e / 16u; let src = bo + (col0 + n) * K + k0 + k;"
    : "let n = e % 64u; let k = e / 64u; let src = bo + (k0 + k) * N + col0 + n;";
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
var<workgroup> As: array<vec4<f32>, ${(KT * TILE) / 4}>; // As[k * 16 + m / 4][m % 4]
var<workgroup> Bs: array<vec4<f32>, ${(KT * TILE) / 4}>; // Bs[k * 16 + n / 4][n % 4]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let M = pu(0); let K = pu(1); let N = pu(2);
  let ao = wid.z * pu(3);
  let bo = wid.z * pu(4);
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var r = 0u; r < 4u; r++) {
      let e = li + r * 256u;
      {
        ${aLoad}
        As[k * 16u + m / 4u][m % 4u] = select(0.0, A[src], row0 + m < M && k0 + k < K);
      }
      {
        ${bLoad}
        Bs[k * 16u + n / 4u][n % 4u] = select(0.0, B[src], col0 + n < N && k0 + k < K);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let a = As[k * 16u + lid.y];
      let b = Bs[k * 16u + lid.x];
      acc[0] += a.x * b; acc[1] += a.y * b; acc[2] += a.z * b; acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  let oo = wid.z * M * N;
  let col = col0 + lid.x * 4u;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col + j < N) {
        let o = oo + row * N + col + j;
        out[o] = ${accumulate ? "out[o] + acc[i][j]" : "acc[i][j]"};
      }
    }
  }
}`;
}

export function matmul(ctx: GpuContext, out: GpuArray, a: GpuArray, b: GpuArray, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  if (batch > 65535) throw new Error(`webgpu.matmul: batch ${batch} > 65535`);
  const p = new Params().u(M).u(K).u(N).u(aStride).u(bStride);
  ctx.run(matmulWgsl(transA, transB, accumulate), p, [out, a, b], [Math.ceil(N / TILE), Math.ceil(M / TILE), batch]);
}
