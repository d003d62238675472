// A qkv GPT as an ONNX model (opset 17, IR 8): input_ids int64 (batch, sequence) -> logits float32
// (batch, sequence, V), both axes dynamic. Built from plain ONNX ops: Gather, Add, Mul, MatMul,
// LayerNormalization, Split, Reshape, Transpose, Softmax, Tanh, Pow; the causal mask is
// Trilu(ConstantOfShape((T, S), -inf), k=P+1), sized from the inputs' shapes at run time.
// Optionally with a KV cache (past_* inputs, present_* outputs) for decoding in onnxruntime.
import type { GPT } from "../nn/gpt.js";
import type { Tensor } from "../tensor/tensor.js";
import { ProtoMessage } from "./protobuf.js";

export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR version that goes with opset 17
const FLOAT = 1, INT64 = 7; // TensorProto.DataType
const ATTR = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 } as const; // AttributeProto.AttributeType

/** The ONNX problem, naming what was given. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnnxExportError";
  }
}

type Attr = { name: string } & ({ i: number } | { f: number } | { ints: number[] } | { t: ProtoMessage });

/** Nodes and initializers of one graph, with unique output names. */
class GraphBuilder {
  readonly nodes: ProtoMessage[] = [];
  readonly initializers: ProtoMessage[] = [];
  readonly #consts = new Map<string, string>();
  #count = 0;

  /** Adds a node; returns its output names (`outputs` of them). */
  op(type: string, inputs: string[], attrs: Attr[] = [], outputs = 1, name?: string): string[] {
    const id = `${name ?? type}_${this.#count++}`;
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 && name ? name : `${id}_out${i}`));
    const n = new ProtoMessage();
    for (const x of inputs) n.string(1, x);
    for (const y of outs) n.string(2, y);
    n.string(3, id).string(4, type);
    for (const a of attrs) n.message(5, attribute(a));
    this.nodes.push(n);
    return outs;
  }

  /** One-output shorthand. */
  $(type: string, inputs: string[], attrs: Attr[] = [], name?: string): string {
    return this.op(type, inputs, attrs, 1, name)[0];
  }

  /** A float32 initializer named `name` (the values are referenced, not copied, until finish). */
  floats(name: string, values: Float32Array, dims: readonly number[]): string {
    this.initializers.push(tensorProto(name, FLOAT, dims, floatBytes(values)));
    return name;
  }

  /** An int64 initializer. */
  int64s(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const b = new Uint8Array(8 * values.length), dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
    this.initializers.push(tensorProto(name, INT64, dims, b));
    return name;
  }

  /** A scalar float constant, shared by every use. */
  scalar(value: number): string {
    const key = `f${value}`;
    let name = this.#consts.get(key);
    if (!name) this.#consts.set(key, (name = this.floats(`const_${this.#consts.size}_${value}`, Float32Array.of(value), [])));
    return name;
  }
}

function attribute(a: Attr): ProtoMessage {
  const m = new ProtoMessage().string(1, a.name);
  if ("i" in a) return m.int(3, a.i).int(20, ATTR.INT);
  if ("f" in a) return m.float(2, a.f).int(20, ATTR.FLOAT);
  if ("ints" in a) return m.packedInts(8, a.ints).int(20, ATTR.INTS);
  return m.message(5, a.t).int(20, ATTR.TENSOR);
}

function tensorProto(name: string, dtype: number, dims: readonly number[], raw: Uint8Array): ProtoMessage {
  const t = new ProtoMessage();
  if (dims.length > 0) t.packedInts(1, dims);
  return t.int(2, dtype).string(8, name).bytes(9, raw);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function floatBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const b = new Uint8Array(values.byteLength), dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return b;
}

/** A graph input/output: elem type and named (dynamic) or fixed dims. */
function valueInfo(name: string, elemType: number, dims: (string | number)[]): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of dims) shape.message(1, typeof d === "string" ? new ProtoMessage().string(2, d) : new ProtoMessage().int(1, d));
  const tensorType = new ProtoMessage().int(1, elemType).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

/** Checks that the ONNX graph below can express `model`; throws naming the unsupported setting. */
export function checkOnnxExportable(model: GPT): void {
  const c = model.config;
  const refuse = (cond: boolean, m: string) => {
    if (cond) throw new OnnxExportError(`exportGptOnnx: the ONNX export covers GPT-2-style models; ${m}`);
  };
  refuse(c.positional !== "learned", `positional is '${c.positional}' (learned positions only)`);
  refuse(c.numKvHeads !== c.numHeads, `numKvHeads ${c.numKvHeads} != numHeads ${c.numHeads} (no grouped-query attention)`);
  refuse(c.slidingWindow !== null, `slidingWindow is ${c.slidingWindow} (full causal attention only)`);
  refuse(!c.bias, "bias is false (biases on every Linear and LayerNorm only)");
}

export interface OnnxExportOptions {
  producerVersion?: string;
  /**
   * Adds a KV cache for decoding in onnxruntime: inputs past_key_l / past_value_l (batch, H, past, D)
   * for each layer l (past may be 0), outputs present_key_l / present_value_l (batch, H, past + sequence, D);
   * the new tokens sit at positions past..past+sequence-1 and see every cached position.
   */
  kvCache?: boolean;
}

/**
 * The GPT's forward pass (eval mode: no dropout) as ONNX model bytes.
 * Inputs: input_ids int64 (batch, sequence); outputs: logits float32 (batch, sequence, V).
 */
export function exportGptOnnx(model: GPT, opts: OnnxExportOptions = {}): Uint8Array {
  checkOnnxExportable(model);
  const c = model.config, C = c.modelDim, H = c.numHeads, D = C / H;
  const g = new GraphBuilder();
  const p = new Map(model.namedParameters());
  const param = (name: string): string => {
    const t = p.get(name) as Tensor;
    return g.floats(name, t.values as Float32Array, t.shape);
  };
  const cached = opts.kvCache === true;
  // positions P..P+T-1 (P cached positions, 0 without a cache) from the inputs' shapes, so the axes stay dynamic
  const axes0 = g.int64s("axes_0", [0]), one = g.int64s("int_1", [1], []);
  const T1 = g.$("Shape", ["input_ids"], [{ name: "start", i: 1 }, { name: "end", i: 2 }]); // (1,)
  const T = g.$("Squeeze", [T1, axes0]); // ()
  const P1 = cached ? g.$("Shape", ["past_key_0"], [{ name: "start", i: 2 }, { name: "end", i: 3 }]) : null; // (1,)
  const P = P1 ? g.$("Squeeze", [P1, axes0]) : g.int64s("int_0", [0], []); // ()
  const pos = g.$("Range", [P, P1 ? g.$("Add", [P, T]) : T, one]); // (T,)
  const wte = param("tokenEmbedding.weight");
  let x = g.$("Add", [g.$("Gather", [wte, "input_ids"]), g.$("Gather", [param("positionEmbedding.weight"), pos])]); // (B, T, C)
  // additive bottom-right causal mask (T, S), S = P + T: query t sees key s iff s <= t + P; -inf elsewhere
  const minusInf = new ProtoMessage().int(1, 1).int(2, FLOAT).bytes(9, floatBytes(Float32Array.of(-Infinity)));
  const S1 = P1 ? g.$("Add", [P1, T1]) : T1;
  const full = g.$("ConstantOfShape", [g.$("Concat", [T1, S1], [{ name: "axis", i: 0 }])], [{ name: "value", t: minusInf }]); // (T, S)
  const mask = g.$("Trilu", [full, g.$("Add", [P, one])], [{ name: "upper", i: 1 }], "causal_mask"); // keeps -inf where s >= t + P + 1
  const splitSizes = g.int64s("split_qkv", [C, C, C]);
  const headShape = g.int64s("shape_heads", [0, 0, H, D]), mergedShape = g.int64s("shape_merged", [0, 0, C]);
  const scale = g.scalar(1 / Math.sqrt(D));
  const ln = (input: string, prefix: string) =>
    g.$("LayerNormalization", [input, param(`${prefix}.weight`), param(`${prefix}.bias`)], [{ name: "axis", i: -1 }, { name: "epsilon", f: c.layerNormEps }]);
  const linear = (input: string, prefix: string) => g.$("Add", [g.$("MatMul", [input, param(`${prefix}.weight`)]), param(`${prefix}.bias`)]);
  for (let l = 0; l < c.numLayers; l++) {
    const b = `blocks.${l}`;
    const h = ln(x, `${b}.ln1`);
    // W^Q, W^K, W^V fused as GPT-2's c_attn (C, 3C), then split
    const wqkv = g.floats(`${b}.attn.wQKV.weight`, catLast(["wQ", "wK", "wV"].map((n) => p.get(`${b}.attn.${n}.weight`) as Tensor), C), [C, 3 * C]);
    const bqkv = g.floats(`${b}.attn.wQKV.bias`, catLast(["wQ", "wK", "wV"].map((n) => p.get(`${b}.attn.${n}.bias`) as Tensor), 1), [3 * C]);
    const [q, k, v] = g.op("Split", [g.$("Add", [g.$("MatMul", [h, wqkv]), bqkv]), splitSizes], [{ name: "axis", i: -1 }], 3); // 3 x (B, T, C)
    const heads = (y: string, perm: number[]) => g.$("Transpose", [g.$("Reshape", [y, headShape])], [{ name: "perm", ints: perm }]);
    let kh = heads(k, [0, 2, 1, 3]), vh = heads(v, [0, 2, 1, 3]); // (B, H, T, D)
    if (cached) {
      kh = g.$("Concat", [`past_key_${l}`, kh], [{ name: "axis", i: 2 }], `present_key_${l}`); // (B, H, S, D)
      vh = g.$("Concat", [`past_value_${l}`, vh], [{ name: "axis", i: 2 }], `present_value_${l}`);
    }
    const kT = g.$("Transpose", [kh], [{ name: "perm", ints: [0, 1, 3, 2] }]); // (B, H, D, S)
    const scores = g.$("Mul", [g.$("MatMul", [heads(q, [0, 2, 1, 3]), kT]), scale]); // (B, H, T, S)
    const probs = g.$("Softmax", [g.$("Add", [scores, mask])], [{ name: "axis", i: -1 }]); // (B, H, T, S)
    const att = g.$("MatMul", [probs, vh]); // (B, H, T, D)
    const merged = g.$("Reshape", [g.$("Transpose", [att], [{ name: "perm", ints: [0, 2, 1, 3] }]), mergedShape]); // (B, T, C)
    x = g.$("Add", [x, linear(merged, `${b}.attn.wO`)]);
    // MLP with GPT-2's tanh GELU: 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))
    const u = linear(ln(x, `${b}.ln2`), `${b}.mlp.fc`);
    const inner = g.$("Add", [u, g.$("Mul", [g.$("Pow", [u, g.scalar(3)]), g.scalar(0.044715)])]);
    const gelu = g.$("Mul", [g.$("Mul", [u, g.scalar(0.5)]), g.$("Add", [g.$("Tanh", [g.$("Mul", [inner, g.scalar(Math.sqrt(2 / Math.PI))])]), g.scalar(1)])]);
    x = g.$("Add", [x, linear(gelu, `${b}.mlp.proj`)]);
  }
  // tied LM head: logits = ln_f(x) @ wte^T
  g.$("MatMul", [ln(x, "lnFinal"), g.$("Transpose", [wte], [{ name: "perm", ints: [1, 0] }])], [], "logits");

  const graph = new ProtoMessage();
  for (const n of g.nodes) graph.message(1, n);
  graph.string(2, "qkv_gpt");
  for (const t of g.initializers) graph.message(5, t);
  graph.message(11, valueInfo("input_ids", INT64, ["batch", "sequence"]));
  const layers = cached ? Array.from({ length: c.numLayers }, (_, l) => l) : [];
  for (const l of layers) for (const kind of ["key", "value"]) graph.message(11, valueInfo(`past_${kind}_${l}`, FLOAT, ["batch", H, "past", D]));
  graph.message(12, valueInfo("logits", FLOAT, ["batch", "sequence", c.vocabSize]));
  for (const l of layers) for (const kind of ["key", "value"]) graph.message(12, valueInfo(`present_${kind}_${l}`, FLOAT, ["batch", H, "total", D]));
  const modelProto = new ProtoMessage()
    .int(1, IR_VERSION)
    .string(2, "qkv")
    .string(3, opts.producerVersion ?? "0.1.0")
    .message(7, graph)
    .message(8, new ProtoMessage().string(1, "").int(2, ONNX_OPSET));
  for (const [k, v] of Object.entries({ qkv_config: JSON.stringify(c) })) modelProto.message(14, new ProtoMessage().string(1, k).string(2, v));
  return modelProto.finish();
}

/** Row-major (rows, n_k) tensors concatenated along the last axis; `rows` leading rows each. */
function catLast(parts: Tensor[], rows: number): Float32Array {
  const widths = parts.map((t) => t.size / rows), W = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * W);
  let col = 0;
  parts.forEach((t, j) => {
    const src = t.values as Float32Array, w = widths[j];
    for (let r = 0; r < rows; r++) out.set(src.subarray(r * w, (r + 1) * w), r * W + col);
    col += w;
  });
  return out;
}
