// A minimal protocol-buffers writer (proto3 wire format): varints, length-delimited fields and
// packed repeated scalars, enough to write ONNX models. A message keeps a list of byte chunks and
// its total length, so nesting costs no copies; finish() concatenates once.
// Wire types: 0 varint, 2 length-delimited, 5 fixed32.

const encoder = new TextEncoder();

export class ProtoMessage {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  #tag(field: number, wire: number): void {
    this.#push(varint(field * 8 + wire));
  }

  /** int32/int64/enum/bool field (negative values take 10 bytes, as two's complement int64). */
  int(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#push(varint(value));
    return this;
  }

  /** A float field (fixed32). */
  float(field: number, value: number): this {
    this.#tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** A bytes field; `value` is kept by reference until finish(). */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#push(varint(value.length));
    this.#push(value);
    return this;
  }

  /** An embedded message. */
  message(field: number, value: ProtoMessage): this {
    this.#tag(field, 2);
    this.#push(varint(value.length));
    for (const p of value.#parts) this.#push(p);
    return this;
  }

  /** A packed repeated int32/int64 field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const chunks = values.map((v) => varint(v));
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) body.set(c, (o += c.length) - c.length);
    return this.bytes(field, body);
  }

  /** A packed repeated float field (little-endian fixed32). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const body = new Uint8Array(4 * values.length), dv = new DataView(body.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(4 * i, values[i], true);
    return this.bytes(field, body);
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Base-128 varint; negative numbers as 64-bit two's complement (10 bytes). */
export function varint(value: number | bigint): Uint8Array {
  if (typeof value === "number" && value >= 0 && value < 0x80) return Uint8Array.of(value);
  let v = typeof value === "bigint" ? value : BigInt(value);
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new Error(`varint: expected a safe integer, got ${value}`);
  if (v < 0n) v += 1n << 64n;
  if (v >= 1n << 64n) throw new Error(`varint: ${value} does not fit in 64 bits`);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}
