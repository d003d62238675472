// Elementwise ops with NumPy broadcasting, and their gradients (summed back to each input's shape).
import { record } from "../autograd/graph.js";
import { device } from "../backend/select.js";
import type { BinaryOp, UnaryOp } from "../backend/kernels.js";
import { allocArray, isFloat, type DType } from "../tensor/storage.js";
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { check, fmtShape } from "../util/assert.js";
import { broadcastShapes, broadcastStrides, shapesEqual, sizeOf, type Shape } from "../util/shape.js";
import { cast } from "./cast.js";
import { expand, reshape } from "./movement.js";
import { sum } from "./reduce.js";

/** The dtype two operands compute in: the widest float among them, else int32. */
export function promote(a: DType, b: DType): DType {
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return "float32";
  return "int32";
}

/** A number becomes a 0-d tensor of `like`'s dtype (float32 when `like` is integral and x is not). */
export function asTensor(x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  check(typeof x === "number", "asTensor", `expected a Tensor or a number, got ${typeof x}`);
  const dtype: DType = isFloat(like.dtype) ? like.dtype : Number.isInteger(x) ? "int32" : "float32";
  const array = allocArray(dtype, 1);
  array[0] = x;
  return Tensor.fromArray(array, [], dtype);
}

/** Casts integer or bool tensors to float32; float tensors pass through. */
export function asFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : cast(x, "float32");
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes), shape);
}

function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const d = device(), out = d.alloc(outDtype, sizeOf(shape));
  d.binary(op, out, a.storage, b.storage, shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
  return new Tensor(out, shape);
}

function arith(op: BinaryOp, x: TensorLike, y: TensorLike, grads: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  check(x instanceof Tensor || y instanceof Tensor, op, "expected at least one Tensor operand");
  const a = x instanceof Tensor ? x : asTensor(x, y as Tensor);
  const b = asTensor(y, a);
  let dtype = promote(a.dtype, b.dtype);
  if ((op === "div" || op === "pow") && dtype === "int32") dtype = "float32";
  const out = binaryRaw(op, a, b, dtype);
  return record(out, op, [a, b], (g) => {
    const [ga, gb] = grads(g, a, b, out);
    return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
  });
}

export function add(x: TensorLike, y: TensorLike): Tensor {
  return arith("add", x, y, (g) => [g, g]);
}

export function sub(x: TensorLike, y: TensorLike): Tensor {
  return arith("sub", x, y, (g) => [g, neg(g)]);
}

export function mul(x: TensorLike, y: TensorLike): Tensor {
  return arith("mul", x, y, (g, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
}

export function div(x: TensorLike, y: TensorLike): Tensor {
  // d(a/b) = da / b - a db / b^2
  return arith("div", x, y, (g, a, b, out) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, out), b)) : null]);
}

export function pow(x: TensorLike, y: TensorLike): Tensor {
  // d(a^b) = b a^(b-1) da + a^b log(a) db; as torch, 0 where b = 0 (da) and where a = 0, b >= 0 (db)
  return arith("pow", x, y, (g, a, b, out) => [
    a.requiresGrad ? mul(g, where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1))))) : null,
    b.requiresGrad ? mul(g, where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(out, log(a)))) : null,
  ]);
}

/** The gradients of a max/min: all of g to the winner, half each on a tie (as torch.maximum). */
function pickGrads(g: Tensor, aWins: Tensor, bWins: Tensor, tie: Tensor): [Tensor, Tensor] {
  const half = where(tie, mul(g, 0.5), 0);
  return [where(aWins, g, half), where(bWins, g, half)];
}

/** Elementwise maximum; the gradient goes to the larger operand, split in half on ties. */
export function maximum(x: TensorLike, y: TensorLike): Tensor {
  return arith("maximum", x, y, (g, a, b) => pickGrads(g, gt(a, b), lt(a, b), eq(a, b)));
}

/** Elementwise minimum; the gradient goes to the smaller operand, split in half on ties. */
export function minimum(x: TensorLike, y: TensorLike): Tensor {
  return arith("minimum", x, y, (g, a, b) => pickGrads(g, lt(a, b), gt(a, b), eq(a, b)));
}

function compare(op: "eq" | "lt" | "gt", x: TensorLike, y: TensorLike): Tensor {
  check(x instanceof Tensor || y instanceof Tensor, op, "expected at least one Tensor operand");
  const a = x instanceof Tensor ? x : asTensor(x, y as Tensor);
  return binaryRaw(op, a, asTensor(y, a), "bool");
}

export const eq = (x: TensorLike, y: TensorLike): Tensor => compare("eq", x, y);
export const lt = (x: TensorLike, y: TensorLike): Tensor => compare("lt", x, y);
export const gt = (x: TensorLike, y: TensorLike): Tensor => compare("gt", x, y);
export const ge = (x: TensorLike, y: TensorLike): Tensor => logicalNot(compare("lt", x, y));
export const le = (x: TensorLike, y: TensorLike): Tensor => logicalNot(compare("gt", x, y));

export function logicalNot(x: Tensor): Tensor {
  check(x.dtype === "bool", "logicalNot", `expected a bool tensor, got ${x.dtype}`);
  return binaryRaw("eq", x, asTensor(0, x), "bool");
}

/** True where both bool tensors are true (broadcasting). */
export function logicalAnd(x: Tensor, y: Tensor): Tensor {
  check(x.dtype === "bool" && y.dtype === "bool", "logicalAnd", `expected bool tensors, got ${x.dtype} and ${y.dtype}`);
  return binaryRaw("mul", x, y, "bool");
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  check(x instanceof Tensor, op, `expected a Tensor, got ${typeof x}`);
  const a = asFloat(x);
  const d = device(), out = d.alloc(a.dtype, a.size);
  d.unary(op, out, a.storage, a.size);
  const y = new Tensor(out, a.shape);
  return record(y, op, [a], (g) => {
    const dx = d.alloc(a.dtype, a.size);
    d.unaryBackward(op, dx, a.storage, out, asFloat(g).storage, a.size);
    return [new Tensor(dx, a.shape)];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export const gelu = (x: Tensor): Tensor => unaryOp("gelu", x);
/** SiLU (swish): x * sigmoid(x). */
export const silu = (x: Tensor): Tensor => unaryOp("silu", x);

/** Picks a where cond is true, else b, broadcasting all three. cond must be bool. */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  check(cond instanceof Tensor && cond.dtype === "bool", "where", () => `expected a bool condition, got ${cond instanceof Tensor ? cond.dtype : typeof cond}`);
  const like = x instanceof Tensor ? x : y instanceof Tensor ? y : Tensor.fromArray(new Float32Array(1), [], "float32");
  const a = asTensor(x, like), b = asTensor(y, like);
  const dtype = promote(a.dtype, b.dtype);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, a.shape), b.shape);
  const d = device(), out = d.alloc(dtype, sizeOf(shape));
  d.where(out, cond.storage, a.storage, b.storage, shape, broadcastStrides(cond.shape, shape), broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
  return record(new Tensor(out, shape), "where", [a, b], (g) => [
    a.requiresGrad ? unbroadcast(where(cond, g, 0), a.shape) : null,
    b.requiresGrad ? unbroadcast(where(cond, 0, g), b.shape) : null,
  ]);
}

/** Broadcasts x to `shape`, checking it is possible (used by ops that take broadcastable options). */
export function broadcastTo(fn: string, x: Tensor, shape: Shape): Tensor {
  check(shapesEqual(broadcastShapes(fn, x.shape, shape), shape), fn, () => `shape ${fmtShape(x.shape)} does not broadcast to ${fmtShape(shape)}`);
  return expand(x, shape);
}
