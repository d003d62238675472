// safetensors: round trips of every dtype, hand-made F16/BF16/I64 bytes with known values, a
// byte-identical round trip of a file written by the Python reference, >= 20 malformed files each
// refused with a SafetensorsError that says what is wrong, and a seeded fuzz of 10,000+ mutations.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseSafetensors, readSafetensorsHeader, SafetensorsError, serializeSafetensors } from "../../src/io/safetensors.js";
import { tensor } from "../../src/tensor/create.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";
import { fixturePath } from "../helpers/fixtures.js";

/** A file from a header string (padded to 8 as written, unless `rawLength` overrides the length field) and data bytes. */
function file(header: string | Uint8Array, data: ArrayLike<number> = [], rawLength?: bigint): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, rawLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(Array.from(data), 8 + h.length);
  return out;
}

const u16 = (...xs: number[]): number[] => xs.flatMap((x) => [x & 0xff, x >> 8]);
const entry = (dtype: string, shape: number[], b: number, e: number): string => JSON.stringify({ dtype, shape, data_offsets: [b, e] });

function throwsSafetensors(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected a SafetensorsError, got ${String(e)}`);
    assert.match(e.message, /^parseSafetensors: /);
    assert.match(e.message, pattern);
    return true;
  });
}

test("safetensors: float32, float64, int32 and bool tensors round-trip with metadata", () => {
  const tensors = new Map<string, Tensor>([
    ["w", tensor([1.5, -2.25, 3e-8, 1e30, -0, Infinity], [2, 3])],
    ["d", tensor([Math.PI, -1e-300], [2], { dtype: "float64" })],
    ["ids", tensor([0, -1, 2147483647, -2147483648], [4], { dtype: "int32" })],
    ["mask", tensor([1, 0, 0, 1], [2, 2], { dtype: "bool" })],
    ["scalar", tensor([7], [], { dtype: "float32" })],
    ["empty", tensor([], [0, 3])],
  ]);
  const bytes = serializeSafetensors(tensors, { format: "pt", note: "é \u2603" });
  assert.equal((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8, 0, "data starts on an 8-byte boundary");
  const back = parseSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [name, t] of tensors) {
    const u = back.tensors.get(name)!;
    assert.equal(u.dtype, t.dtype, name);
    assert.deepEqual(u.shape, t.shape, name);
    assert.deepEqual(Array.from(u.values), Array.from(t.values), name);
  }
  assert.ok(Object.is(back.tensors.get("w")!.values[4], -0), "negative zero survives");
  assert.deepEqual([...back.metadata], [["format", "pt"], ["note", "é \u2603"]]);
  assert.deepEqual([...back.dtypes.values()], ["F32", "F64", "I32", "BOOL", "F32", "F32"]);
});

test("safetensors: a file written by the Python reference parses and re-serializes byte for byte", () => {
  const bytes = new Uint8Array(readFileSync(fixturePath("gpt2-tiny/model.safetensors")));
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.equal(tensors.size, 28);
  assert.deepEqual(tensors.get("wte.weight")!.shape, [61, 16]);
  assert.deepEqual([...metadata], [["format", "pt"]]);
  const again = serializeSafetensors(tensors, metadata);
  assert.deepEqual(again, bytes);
});

test("safetensors: F16 and BF16 hand-made bytes convert to the known float32 values", () => {
  // binary16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), inf, -inf, NaN, -0, 0x3555 = 0.333251953125
  const f16 = u16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555);
  // bfloat16: 1, -3, 3.140625, inf, 2^-133 (subnormal), -inf
  const bf16 = u16(0x3f80, 0xc040, 0x4049, 0x7f80, 0x0001, 0xff80);
  const bytes = file(`{"h":${entry("F16", [9], 0, 18)},"b":${entry("BF16", [2, 3], 18, 30)}}`, [...f16, ...bf16]);
  const { tensors, dtypes } = parseSafetensors(bytes);
  const h = Array.from(tensors.get("h")!.values);
  assert.equal(tensors.get("h")!.dtype, "float32");
  assert.deepEqual(h.slice(0, 6), [1, -2, 65504, 2 ** -24, Infinity, -Infinity]);
  assert.ok(Number.isNaN(h[6]));
  assert.ok(Object.is(h[7], -0));
  assert.equal(h[8], 0.333251953125);
  assert.deepEqual(Array.from(tensors.get("b")!.values), [1, -3, 3.140625, Infinity, 2 ** -133, -Infinity]);
  assert.deepEqual(tensors.get("b")!.shape, [2, 3]);
  assert.equal(dtypes.get("b"), "BF16");
});

test("safetensors: I64, I16, I8, U8, U16 and U32 read as int32; BOOL as bool", () => {
  const i64 = [5, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff];
  const header = `{"a":${entry("I64", [4], 0, 32)},"b":${entry("I16", [2], 32, 36)},"c":${entry("I8", [2], 36, 38)},"d":${entry("U8", [2], 38, 40)},"e":${entry("U16", [1], 40, 42)},"f":${entry("U32", [1], 42, 46)},"g":${entry("BOOL", [3], 46, 49)}}`;
  const data = [...i64, ...u16(0xffff, 300), 0xff, 7, 0xff, 7, ...u16(65535), 0xff, 0xff, 0xff, 0x7f, 1, 0, 1];
  const { tensors } = parseSafetensors(file(header, data));
  const got = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.dtype, Array.from(t.values)]]));
  assert.deepEqual(got, {
    a: ["int32", [5, -2, 2147483647, -2147483648]],
    b: ["int32", [-1, 300]],
    c: ["int32", [-1, 7]],
    d: ["int32", [255, 7]],
    e: ["int32", [65535]],
    f: ["int32", [2147483647]],
    g: ["bool", [1, 0, 1]],
  });
});

test("safetensors: a tensor named __proto__ is only a name, in both directions", () => {
  const tensors = new Map([["__proto__", tensor([1, 2], [2])], ["constructor", tensor([3], [1])]]);
  const bytes = serializeSafetensors(tensors, { __proto__: "meta" } as unknown as Record<string, string>);
  const back = parseSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ["__proto__", "constructor"]);
  assert.deepEqual(Array.from(back.tensors.get("__proto__")!.values), [1, 2]);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  // hand-made: __proto__ in the metadata too
  const raw = file(`{"__proto__":${entry("U8", [1], 0, 1)},"__metadata__":{"__proto__":"x","toString":"y"}}`, [9]);
  const p = parseSafetensors(raw);
  assert.equal(p.tensors.get("__proto__")!.values[0], 9);
  assert.deepEqual([...p.metadata], [["__proto__", "x"], ["toString", "y"]]);
});

test("safetensors: an empty file set, zero-size tensors sharing an offset, and a header padded with spaces parse", () => {
  assert.equal(parseSafetensors(serializeSafetensors([])).tensors.size, 0);
  const p = parseSafetensors(file(`{"a":${entry("F32", [0], 4, 4)},"b":${entry("F32", [1], 0, 4)},"c":${entry("F32", [2, 0], 4, 4)}}   `, [0, 0, 0x80, 0x3f]));
  assert.deepEqual(Array.from(p.tensors.get("b")!.values), [1]);
  assert.deepEqual(p.tensors.get("c")!.shape, [2, 0]);
});

test("safetensors: the writer refuses duplicate names, the reserved __metadata__ name and non-string metadata", () => {
  const t = tensor([1], [1]);
  assert.throws(() => serializeSafetensors([["a", t], ["a", t]]), /serializeSafetensors: duplicate tensor name "a"/);
  assert.throws(() => serializeSafetensors([["__metadata__", t]]), /serializeSafetensors: "__metadata__" is reserved/);
  assert.throws(() => serializeSafetensors([["a", t]], { n: 1 as unknown as string }), /metadata value for "n" must be a string/);
  assert.throws(() => serializeSafetensors([["a", [1] as unknown as Tensor]]), (e) => e instanceof SafetensorsError && /not a Tensor/.test(e.message));
});

// ----- malformed files: each must fail with a SafetensorsError naming the problem -----

const okHeader = `{"a":${entry("F32", [2], 0, 8)},"b":${entry("I32", [1], 8, 12)}}`;
const okData = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 7, 0, 0, 0];

const malformed: [string, Uint8Array, RegExp][] = [
  ["empty file", new Uint8Array(0), /shorter than the 8-byte header length/],
  ["7-byte file", new Uint8Array(7), /shorter than the 8-byte header length/],
  ["header length beyond the file", file("{}", [], 1000n), /header length 1000 runs past the end of the 10-byte file/],
  ["header length with the high word set (2^40)", file("{}", [], 2n ** 40n), /header length 1099511627776 exceeds the 100000000-byte limit/],
  ["header length just above 100 MB", file("{}", [], 100_000_001n), /exceeds the 100000000-byte limit/],
  ["header length 0", file("", []), /too short for a JSON object/],
  ["header starting with a space", file(' {}'), /must start with "\{", found byte 0x20/],
  ["non-object JSON (array)", file("[1,2]"), /must start with "\{"/],
  ["non-object JSON (string)", file('"x"'), /must start with "\{"/],
  ["truncated JSON", file('{"a":{"dtype":'), /not valid JSON: unexpected end/],
  ["JSON with trailing garbage in the header", file("{} x"), /unexpected "x" at position 3 after the JSON value/],
  ["invalid UTF-8 in the header", file(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d)), /header is not valid UTF-8/],
  ["duplicate tensor names", file(`{"a":${entry("F32", [1], 0, 4)},"a":${entry("F32", [1], 4, 8)}}`, new Array(8).fill(0)), /duplicate key "a"/],
  ["overlapping offsets", file(`{"a":${entry("F32", [2], 0, 8)},"b":${entry("F32", [1], 4, 8)}}`, new Array(8).fill(0)), /tensor "b".*overlap the previous tensor, which ends at 8/],
  ["a hole between tensors", file(`{"a":${entry("F32", [1], 0, 4)},"b":${entry("F32", [1], 8, 12)}}`, new Array(12).fill(0)), /tensor "b".*leave a hole of 4 bytes after offset 4/],
  ["data not starting at offset 0", file(`{"a":${entry("F32", [1], 4, 8)}}`, new Array(8).fill(0)), /hole of 4 bytes after offset 0/],
  ["trailing bytes after the last tensor", file(okHeader, [...okData, 1, 2]), /cover 12 bytes but the data section holds 14 \(trailing bytes\)/],
  ["data truncated", file(okHeader, okData.slice(0, 10)), /tensor "b".*run past the 10-byte data section/],
  ["shape [2, 2^63]", file(`{"a":{"dtype":"F32","shape":[2,9223372036854775808],"data_offsets":[0,8]}}`, new Array(8).fill(0)), /tensor "a": shape \[2, 9223372036854776000\] must hold non-negative integers below 2\^53/],
  ["shape whose product overflows 2^64", file(`{"a":${entry("F32", [2 ** 40, 2 ** 40, 2 ** 40], 0, 8)}}`, new Array(8).fill(0)), /needs 5316911983139663491615228241121378304 bytes but data_offsets \[0, 8\] span 8/],
  ["shape that does not match the byte span", file(`{"a":${entry("F32", [3], 0, 8)}}`, new Array(8).fill(0)), /F32 shape \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/],
  ["negative dimension", file(`{"a":${entry("F32", [-1], 0, 0)}}`), /shape \[-1\] must hold non-negative integers/],
  ["fractional dimension", file(`{"a":${entry("F32", [1.5], 0, 6)}}`, new Array(6).fill(0)), /shape \[1.5\] must hold non-negative integers/],
  ["negative offset", file(`{"a":${entry("F32", [1], -4, 0)}}`), /data_offsets \[-4, 0\] must be non-negative integers/],
  ["offsets ending before they begin", file(`{"a":${entry("F32", [0], 4, 0)}}`, new Array(4).fill(0)), /data_offsets \[4, 0\] end before they begin/],
  ["three data_offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, new Array(4).fill(0)), /data_offsets must be \[begin, end\], got an array of 3/],
  ["unsupported dtype", file(`{"a":${entry("F8_E4M3", [1], 0, 1)}}`, [0]), /tensor "a": unsupported dtype "F8_E4M3"/],
  ["dtype not a string", file(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, new Array(4).fill(0)), /dtype must be a string, got number 4/],
  ["missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, new Array(4).fill(0)), /shape must be an array, got nothing/],
  ["unknown field in a tensor entry", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}`, new Array(4).fill(0)), /unknown field "extra"/],
  ["tensor entry that is not an object", file(`{"a":[1,2]}`), /tensor "a": expected an object/],
  ["metadata that is not an object", file(`{"__metadata__":"x"}`), /"__metadata__" must be an object of strings/],
  ["metadata with a non-string value", file(`{"__metadata__":{"n":1}}`), /"__metadata__" value for "n" must be a string, got number 1/],
  ["duplicate metadata keys", file(`{"__metadata__":{"k":"1","k":"2"}}`), /duplicate key "k"/],
  ["I64 value beyond int32", file(`{"a":${entry("I64", [1], 0, 8)}}`, [0, 0, 0, 0x80, 0, 0, 0, 0]), /tensor "a": I64 value 2147483648 at index 0 does not fit in int32/],
  ["BOOL byte that is neither 0 nor 1", file(`{"m":${entry("BOOL", [2], 0, 2)}}`, [1, 2]), /tensor "m": BOOL byte 2 at index 1 is neither 0 nor 1/],
  ["nesting 100 levels deep", file(`{"a":${"[".repeat(100)}${"]".repeat(100)}}`), /nesting deeper than 64 levels/],
  ["raw control character in a name", file(`{"a\nb":${entry("F32", [0], 0, 0)}}`), /unescaped control character 0xa/],
  ["bad escape in a name", file(`{"a\\x":${entry("F32", [0], 0, 0)}}`), /bad escape \\x/],
];

test(`safetensors: ${malformed.length} malformed files are each refused with a clear SafetensorsError`, () => {
  assert.ok(malformed.length >= 20);
  for (const [name, bytes, pattern] of malformed) {
    try {
      parseSafetensors(bytes);
      assert.fail(`${name}: parsed without error`);
    } catch (e) {
      assert.ok(e instanceof SafetensorsError, `${name}: expected a SafetensorsError, got ${String(e)}`);
      assert.match(e.message, /^parseSafetensors: /, name);
      assert.match(e.message, pattern, name);
    }
  }
});

test("safetensors: every truncation of a small valid file is refused", () => {
  const whole = serializeSafetensors(new Map([["x", tensor([1, 2, 3], [3])], ["m", tensor([1, 0], [2], { dtype: "bool" })]]), { k: "v" });
  assert.equal(parseSafetensors(whole).tensors.size, 2);
  for (let n = 0; n < whole.length; n++) {
    throwsSafetensors(whole.subarray(0, n), /shorter than|runs past|truncated|run past/);
  }
});

test("safetensors: a non-Uint8Array argument is refused", () => {
  assert.throws(() => parseSafetensors([1, 2, 3] as unknown as Uint8Array), /parseSafetensors: expected the file as a Uint8Array or ArrayBuffer, got Array/);
});

test("safetensors: readSafetensorsHeader reports entries and the data start without decoding", () => {
  const h = readSafetensorsHeader(file(okHeader, okData));
  assert.equal(h.dataStart, 8 + okHeader.length);
  assert.deepEqual(h.entries.get("b"), { dtype: "I32", shape: [1], dataOffsets: [8, 12] });
});

// ----- fuzzing -----

const bytesOf = (t: Tensor): Uint8Array => new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);

/** One seeded mutation of `base`: bit flips, byte writes, truncation, extension, length-field or header-text edits. */
function mutate(base: Uint8Array, rng: Rng): Uint8Array {
  const headerLen = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));
  let b = base.slice();
  const kind = rng.int(8);
  switch (kind) {
    case 0: for (let k = 1 + rng.int(3); k > 0; k--) { const i = rng.int(b.length); b[i] ^= 1 << rng.int(8); } break;
    case 1: b[rng.int(b.length)] = rng.int(256); break;
    case 2: b = b.subarray(0, rng.int(b.length)); break;
    case 3: { const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256)); const c = new Uint8Array(b.length + extra.length); c.set(b); c.set(extra, b.length); b = c; break; }
    case 4: { // length field: small nudge, random 32-bit, or random high word
      const dv = new DataView(b.buffer);
      const r = rng.int(3);
      if (r === 0) dv.setUint32(0, Math.max(0, headerLen + rng.int(17) - 8), true);
      else if (r === 1) dv.setUint32(0, rng.nextUint32(), true);
      else dv.setUint32(4, rng.nextUint32(), true);
      break;
    }
    case 5: { // replace a digit of the header with another digit: keeps the JSON valid, moves offsets and shapes
      const digits = [];
      for (let i = 8; i < 8 + headerLen; i++) if (b[i] >= 0x30 && b[i] <= 0x39) digits.push(i);
      if (digits.length) b[digits[rng.int(digits.length)]] = 0x30 + rng.int(10);
      break;
    }
    case 6: { // delete or duplicate one header byte (header length field left as it was, or fixed up)
      const i = 8 + rng.int(headerLen), c = new Uint8Array(b.length + (rng.int(2) ? 1 : -1));
      if (c.length > b.length) { c.set(b.subarray(0, i + 1)); c.set(b.subarray(i), i + 1); } else { c.set(b.subarray(0, i)); c.set(b.subarray(i + 1), i); }
      if (rng.int(2)) new DataView(c.buffer).setUint32(0, headerLen + (c.length - b.length), true);
      b = c;
      break;
    }
    default: { // swap in a structural JSON character
      const chars = '{}[]:,"\\ -0e.';
      b[8 + rng.int(headerLen)] = chars.charCodeAt(rng.int(chars.length));
    }
  }
  return b;
}

test("safetensors: 12,000 seeded mutations either parse to a valid file or throw a SafetensorsError", { timeout: 30_000 }, () => {
  const rng = new Rng(20261204);
  const bases = [
    serializeSafetensors(new Map([["w", tensor([1, 2, 3, 4, 5, 6], [2, 3])], ["b", tensor([0.5], [1])]]), { format: "pt" }),
    file(`{"h":${entry("F16", [2], 0, 4)},"i":${entry("I64", [1], 4, 12)},"m":${entry("BOOL", [2], 12, 14)},"__metadata__":{"a":"b"}}`, [0, 0x3c, 0, 0xc0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
    serializeSafetensors(new Map([["ids", tensor([1, 2], [2], { dtype: "int32" })], ["__proto__", tensor([3], [], { dtype: "float64" })], ["e", tensor([], [0])]])),
  ];
  let parsed = 0, refused = 0;
  for (let it = 0; it < 12_000; it++) {
    const bytes = mutate(bases[it % bases.length], rng);
    let result;
    try {
      result = parseSafetensors(bytes);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.fail(`iteration ${it}: untyped error ${String(e)} for bytes ${Buffer.from(bytes).toString("hex").slice(0, 200)}`);
      assert.match(e.message, /^parseSafetensors: ./);
      refused++;
      continue;
    }
    // accepted: it must be a consistent file, so writing it back and reading again gives the same values
    parsed++;
    const again = parseSafetensors(serializeSafetensors(result.tensors, result.metadata));
    assert.deepEqual([...again.tensors.keys()], [...result.tensors.keys()], `iteration ${it}`);
    for (const [k, t] of result.tensors) assert.deepEqual(bytesOf(again.tensors.get(k)!), bytesOf(t), `iteration ${it} tensor ${k}`);
  }
  assert.ok(refused > 5000 && parsed > 100, `expected a mix of accepted and refused mutations, got ${parsed} parsed, ${refused} refused`);
});
