// The kernel interface: every backend implements exactly these functions over flat typed arrays.
// Conventions (llm.c): outputs first, then inputs, then sizes. Forward kernels overwrite their
// outputs; backward kernels ACCUMULATE (+=) into gradient buffers, and the caller zeroes them.
// Shape letters: B batch, H query heads, G key/value heads, T queries, S keys, D head dim,
// Dv value dim, N rows of a flattened 2-D view, C columns (features), V vocabulary.

export type FloatArray = Float32Array | Float64Array;
export type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export type UnaryOp = "neg" | "exp" | "log" | "sqrt" | "tanh" | "relu" | "gelu" | "silu" | "abs" | "sigmoid";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "lt" | "gt";
export type ReduceOp = "sum" | "max";

/** Sizes and flags of one attention call. */
export interface AttentionDims {
  B: number;
  H: number;
  G: number;
  T: number;
  S: number;
  D: number;
  Dv: number;
  scale: number;
  /** Query t may see key s iff s <= t + causalOffset; null for no causal mask. */
  causalOffset: number | null;
  /** Strides of the bool mask over (B, H, T, S), 0 on broadcast axes; null when there is no mask. */
  maskStrides: readonly number[] | null;
  /** Strides of the additive bias over (B, H, T, S); null when there is no bias. */
  biasStrides: readonly number[] | null;
}

/** Hyper-parameters of one Adam/AdamW step (PyTorch's update rules). */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** AdamW: decay the weight directly instead of adding it to the gradient. */
  decoupled: boolean;
}

export interface Kernels {
  /** out[i] = op(x[i]). */
  unary(op: UnaryOp, out: FloatArray, x: FloatArray, n: number): void;
  /** dx[i] += dy[i] * op'(x[i]); y is op(x), used where the derivative is cheaper from it. */
  unaryBackward(op: UnaryOp, dx: FloatArray, x: FloatArray, y: FloatArray, dy: FloatArray, n: number): void;
  /** out[idx] = a[idx . aStrides] op b[idx . bStrides] over `shape` (strides 0 broadcast). */
  binary(op: BinaryOp, out: AnyArray, a: AnyArray, b: AnyArray, shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void;
  /** out[idx] = cond[idx . cStrides] ? a[idx . aStrides] : b[idx . bStrides]. */
  where(out: AnyArray, cond: Uint8Array, a: AnyArray, b: AnyArray, shape: readonly number[], cStrides: readonly number[], aStrides: readonly number[], bStrides: readonly number[]): void;
  /** out[outOffset + idx . outStrides] (= or +=) x[xOffset + idx . xStrides] for every idx in `shape`. */
  copyStrided(out: AnyArray, outOffset: number, outStrides: readonly number[], x: AnyArray, xOffset: number, xStrides: readonly number[], shape: readonly number[], accumulate: boolean): void;
  /** out[i] = x[i] converted to out's dtype: to bool x != 0, to int32 truncated, to floats as is. */
  cast(out: AnyArray, x: AnyArray, n: number): void;
  /** out[o, i] = op over j of x[o, j, i]; x is (outer, n, inner). */
  reduce(op: ReduceOp, out: AnyArray, x: AnyArray, outer: number, n: number, inner: number): void;
  /** out[o, i] = the first j with the largest x[o, j, i] (a NaN never wins after j = 0); n > 0. */
  argmax(out: Int32Array, x: AnyArray, outer: number, n: number, inner: number): void;
  /** torch.gather over (outer, n, inner) -> (outer, m, inner): out[o, j, i] = x[o, index[o, j, i], i]; indices are checked by the caller. */
  gatherForward(out: AnyArray, x: AnyArray, index: Int32Array, outer: number, n: number, m: number, inner: number): void;
  /** dx[o, index[o, j, i], i] += dout[o, j, i] (the scatter-add backward of gatherForward). */
  gatherBackward(dx: FloatArray, dout: FloatArray, index: Int32Array, outer: number, n: number, m: number, inner: number): void;
  /**
   * out[b] (= or +=) op(A[b]) . op(B[b]) with op(A) (M, K) and op(B) (K, N); A[b] starts at b*aStride
   * and is stored (M, K), or (K, M) when transA; likewise B is (K, N), or (N, K) when transB.
   */
  matmul(out: FloatArray, a: FloatArray, b: FloatArray, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: boolean, transB: boolean, accumulate: boolean): void;
  /** Row-wise softmax of x (N, C), max-subtracted. */
  softmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void;
  softmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void;
  logSoftmaxForward(out: FloatArray, x: FloatArray, N: number, C: number): void;
  logSoftmaxBackward(dx: FloatArray, y: FloatArray, dy: FloatArray, N: number, C: number): void;
  /** Normalizes rows of x (N, C); saves mean and rstd (N) for the backward. weight/bias may be null. */
  layerNormForward(out: FloatArray, mean: FloatArray, rstd: FloatArray, x: FloatArray, weight: FloatArray | null, bias: FloatArray | null, N: number, C: number, eps: number): void;
  layerNormBackward(dx: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null, dout: FloatArray, x: FloatArray, mean: FloatArray, rstd: FloatArray, weight: FloatArray | null, N: number, C: number): void;
  /** losses[n] = -log softmax(logits[n])[targets[n]], 0 where targets[n] == ignoreIndex. */
  crossEntropyForward(losses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void;
  crossEntropyBackward(dlogits: FloatArray, dlosses: FloatArray, logits: FloatArray, targets: Int32Array, N: number, V: number, ignoreIndex: number): void;
  /** out[n] = weight[ids[n]] for rows of C; ids are checked by the caller. */
  embeddingForward(out: FloatArray, weight: FloatArray, ids: Int32Array, N: number, C: number): void;
  embeddingBackward(dweight: FloatArray, dout: FloatArray, ids: Int32Array, N: number, C: number): void;
  /**
   * Scaled dot-product attention: out (B, H, T, Dv), lse (B, H, T) the log-sum-exp of each row's
   * scaled scores (-Infinity for a row with no allowed key), weights (B, H, T, S) when not null.
   */
  attentionForward(out: FloatArray, lse: FloatArray, weights: FloatArray | null, q: FloatArray, k: FloatArray, v: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, dims: AttentionDims): void;
  /** Gradients of attention; dbias (B, H, T, S) full-size when not null. Rows with lse = -Infinity get none. */
  attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, dbias: FloatArray | null, dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, mask: Uint8Array | null, bias: FloatArray | null, dims: AttentionDims): void;
  /** One Adam/AdamW step in place over n parameters with moments m and v. */
  adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number, p: AdamParams): void;
}

/** The names of all kernels, for parity tests that must cover every entry. */
export type KernelName = keyof Kernels;
