// A minimal protobuf writer for one ONNX model: attention as a user would export it,
// softmax(Q K^T * scale [+ causal bias]) V with MatMul / Transpose / Mul / Add / Softmax (opset 13).

class Writer {
  bytes: number[] = [];
  varint(v: number): this {
    while (v > 127) { this.bytes.push((v & 127) | 128); v = Math.floor(v / 128); }
    this.bytes.push(v);
    return this;
  }
  tag(field: number, wire: number): this { return this.varint(field * 8 + wire); }
  int(field: number, v: number): this { return this.tag(field, 0).varint(v); }
  str(field: number, s: string): this { return this.raw(field, new TextEncoder().encode(s)); }
  raw(field: number, b: Uint8Array | number[]): this { this.tag(field, 2).varint(b.length); for (const x of b) this.bytes.push(x); return this; }
  msg(field: number, w: Writer): this { return this.raw(field, w.bytes); }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }
}

function valueInfo(name: string, dims: number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, 1).msg(2, shape); // elem_type FLOAT
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

function node(op: string, inputs: string[], outputs: string[], attrs: Writer[] = []): Writer {
  const w = new Writer();
  for (const i of inputs) w.str(1, i);
  for (const o of outputs) w.str(2, o);
  w.str(4, op);
  for (const a of attrs) w.msg(5, a);
  return w;
}

function floatTensor(name: string, dims: number[], values: Float32Array): Writer {
  const w = new Writer();
  for (const d of dims) w.int(1, d);
  w.int(2, 1); // FLOAT
  w.str(8, name);
  w.raw(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)); // raw_data
  return w;
}

/** ONNX bytes of attention over q (B, H, T, D), k (B, H, S, D), v (B, H, S, D). */
export function attentionModel(B: number, H: number, T: number, S: number, D: number, causal: boolean): Uint8Array {
  const g = new Writer();
  const perm = new Writer().str(1, "perm").int(20, 7); // INTS
  for (const p of [0, 1, 3, 2]) perm.int(8, p);
  g.msg(1, node("Transpose", ["k"], ["kt"], [perm]));
  g.msg(1, node("MatMul", ["q", "kt"], ["s0"]));
  g.msg(1, node("Mul", ["s0", "scale"], ["s1"]));
  let scores = "s1";
  if (causal) { g.msg(1, node("Add", ["s1", "causal"], ["s2"])); scores = "s2"; }
  g.msg(1, node("Softmax", [scores], ["p"], [new Writer().str(1, "axis").int(3, 3).int(20, 2)]));
  g.msg(1, node("MatMul", ["p", "v"], ["out"]));
  g.str(2, "attention");
  g.msg(5, floatTensor("scale", [], new Float32Array([1 / Math.sqrt(D)])));
  if (causal) {
    const m = new Float32Array(T * S);
    for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) m[t * S + s] = s <= t + S - T ? 0 : -Infinity;
    g.msg(5, floatTensor("causal", [T, S], m));
  }
  g.msg(11, valueInfo("q", [B, H, T, D]));
  g.msg(11, valueInfo("k", [B, H, S, D]));
  g.msg(11, valueInfo("v", [B, H, S, D]));
  g.msg(12, valueInfo("out", [B, H, T, D]));
  const model = new Writer().int(1, 8); // ir_version
  model.msg(8, new Writer().str(1, "").int(2, 13)); // opset_import
  model.msg(7, g);
  return new Uint8Array(model.bytes);
}
