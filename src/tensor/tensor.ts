// Tensor: a shape, a dtype, storage, and (when it needs one) a gradient and its place on the tape.
// Methods are thin delegates to ops/ (the one sanctioned import cycle; see ARCHITECTURE.md).
import { runBackward, type GraphNode } from "../autograd/graph.js";
import * as F from "../ops/index.js";
import { check, fmtShape } from "../util/assert.js";
import { sizeOf, type Shape } from "../util/shape.js";
import { full } from "./create.js";
import { formatTensor } from "./format.js";
import { CpuStorage, isFloat, type AnyArray, type DType, type Storage } from "./storage.js";

export type Scalar = number;
export type TensorLike = Tensor | number;
export interface KeepDim {
  keepdim?: boolean;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly storage: Storage;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that made this tensor, when it is part of a recorded graph. */
  node: GraphNode | null = null;

  constructor(storage: Storage, shape: Shape, requiresGrad = false) {
    check(storage.length === sizeOf(shape), "Tensor", () => `storage of ${storage.length} values does not fit shape ${fmtShape(shape)}`);
    this.storage = storage;
    this.dtype = storage.dtype;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    check(!requiresGrad || isFloat(this.dtype), "Tensor", `only float tensors can require gradients, got ${this.dtype}`);
  }

  /** Wraps a typed array (not copied) as a host tensor of `shape`, whatever the current backend. */
  static fromArray(array: AnyArray, shape: Shape, dtype: DType, requiresGrad = false): Tensor {
    return new Tensor(new CpuStorage(dtype, array), shape, requiresGrad);
  }

  /** A tensor of host values placed on the current backend: wrapped (not copied) on the CPU, uploaded to a GPU. */
  static onBackend(array: AnyArray, shape: Shape, dtype: DType, requiresGrad = false): Tensor {
    return F.fromHost(array, shape, dtype, requiresGrad);
  }

  /**
   * The backing values, row-major, for host tensors (do not keep or resize). A tensor on the GPU
   * refuses and names the async read, `await t.data()`.
   */
  get values(): AnyArray {
    return this.storage.readSync();
  }

  /** Whether the values live in host memory (js and wasm backends), so sync reads work. */
  get onHost(): boolean {
    return this.storage instanceof CpuStorage;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  /** The values as a plain row-major array (booleans as 0/1). */
  toFlatArray(): number[] {
    return Array.from(this.values);
  }

  /** The values, read back asynchronously (works on every backend). */
  async data(): Promise<AnyArray> {
    return (await this.storage.read()).slice();
  }

  /** The single value of a one-element tensor. */
  item(): number {
    check(this.size === 1, "Tensor.item", `expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.values[0];
  }

  /** The single value of a one-element tensor, read asynchronously (works on every backend). */
  async itemAsync(): Promise<number> {
    check(this.size === 1, "Tensor.itemAsync", `expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return (await this.storage.read())[0];
  }

  toString(): string {
    return formatTensor(this);
  }

  /** Backpropagates from this tensor; `grad` defaults to 1 for a one-element tensor. */
  backward(grad?: Tensor): void {
    check(this.requiresGrad, "Tensor.backward", "this tensor does not require a gradient (no input had requiresGrad: true)");
    let g = grad;
    if (g === undefined) {
      check(this.size === 1, "Tensor.backward", `a gradient must be given for a non-scalar output, got shape ${fmtShape(this.shape)}`);
      g = full(this.shape, 1, { dtype: this.dtype });
    }
    check(g.shape.length === this.shape.length && g.shape.every((d, i) => d === this.shape[i]), "Tensor.backward", () => `gradient shape ${fmtShape(g.shape)} must equal output shape ${fmtShape(this.shape)}`);
    runBackward(this, g, F.add);
  }

  /** Adds `g` to `.grad` (leaf tensors only; gradients accumulate until zeroed). */
  accumulateGrad(g: Tensor): void {
    const own = g.dtype === this.dtype ? g : F.cast(g, this.dtype);
    if (this.grad === null) this.grad = new Tensor(F.clone(own).storage, this.shape);
    else F.addInto(this.grad, own);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** The same values, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, false);
  }

  clone(): Tensor { return F.clone(this); }
  to(dtype: DType): Tensor { return F.cast(this, dtype); }

  add(y: TensorLike): Tensor { return F.add(this, y); }
  sub(y: TensorLike): Tensor { return F.sub(this, y); }
  mul(y: TensorLike): Tensor { return F.mul(this, y); }
  div(y: TensorLike): Tensor { return F.div(this, y); }
  pow(y: TensorLike): Tensor { return F.pow(this, y); }
  maximum(y: TensorLike): Tensor { return F.maximum(this, y); }
  minimum(y: TensorLike): Tensor { return F.minimum(this, y); }
  eq(y: TensorLike): Tensor { return F.eq(this, y); }
  lt(y: TensorLike): Tensor { return F.lt(this, y); }
  gt(y: TensorLike): Tensor { return F.gt(this, y); }
  neg(): Tensor { return F.neg(this); }
  exp(): Tensor { return F.exp(this); }
  log(): Tensor { return F.log(this); }
  sqrt(): Tensor { return F.sqrt(this); }
  tanh(): Tensor { return F.tanh(this); }
  abs(): Tensor { return F.abs(this); }
  sigmoid(): Tensor { return F.sigmoid(this); }
  relu(): Tensor { return F.relu(this); }
  gelu(): Tensor { return F.gelu(this); }
  silu(): Tensor { return F.silu(this); }

  sum(axis?: number | number[], opts?: KeepDim): Tensor { return F.sum(this, axis, opts); }
  mean(axis?: number | number[], opts?: KeepDim): Tensor { return F.mean(this, axis, opts); }
  max(axis?: number | number[], opts?: KeepDim): Tensor { return F.max(this, axis, opts); }
  argmax(axis: number, opts?: KeepDim): Tensor { return F.argmax(this, axis, opts); }

  reshape(shape: Shape): Tensor { return F.reshape(this, shape); }
  permute(order: readonly number[]): Tensor { return F.permute(this, order); }
  transpose(a = -2, b = -1): Tensor { return F.transpose(this, a, b); }
  slice(axis: number, start: number, end?: number): Tensor { return F.slice(this, axis, start, end); }
  expand(shape: Shape): Tensor { return F.expand(this, shape); }
  squeeze(axis: number): Tensor { return F.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return F.unsqueeze(this, axis); }
  flatten(): Tensor { return F.reshape(this, [this.size]); }

  matmul(y: Tensor): Tensor { return F.matmul(this, y); }
  softmax(axis = -1): Tensor { return F.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return F.logSoftmax(this, axis); }
}
