// safetensors (Hugging Face): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the
// raw little-endian data, offsets relative to the end of the header. Pure bytes; runs in browsers.
// The reader follows the format strictly (as the Rust reference validates) and never trusts a size.
import { Tensor } from "../tensor/tensor.js";
import type { AnyArray, DType } from "../tensor/storage.js";
import { parseJsonStrict, type JsonObject, type JsonValue } from "./strict-json.js";

export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U32" | "U16" | "U8" | "BOOL";

const ITEM_BYTES: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The largest header the reader accepts, as the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Every problem with a safetensors file or a tensor to write is reported as this type. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** One header entry, as stored (offsets relative to the start of the data section). */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Map<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

export interface ParsedSafetensors {
  /** Tensors by name, in file order. F16/BF16 become float32, F64 float64, integers int32, BOOL bool. */
  tensors: Map<string, Tensor>;
  /** The free-form string map stored under "__metadata__". */
  metadata: Map<string, string>;
  /** The dtype each tensor had in the file. */
  dtypes: Map<string, SafetensorsDType>;
}

const FN = "parseSafetensors";
const fail = (message: string): never => {
  throw new SafetensorsError(`${FN}: ${message}`);
};

/**
 * Reads and validates the header: lengths, JSON, dtypes, shapes and the exact tiling of the data.
 * `file` is the whole file, or only its start (at least 8 + header length bytes) when
 * `fileLength` gives the file's size, so a large file's header can be checked without reading it all.
 */
export function readSafetensorsHeader(file: Uint8Array | ArrayBuffer, opts: { fileLength?: number } = {}): SafetensorsHeader {
  const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : file;
  if (!(bytes instanceof Uint8Array)) fail(`expected the file as a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  const fileLength = opts.fileLength ?? bytes.length;
  if (!Number.isSafeInteger(fileLength) || fileLength < bytes.length) fail(`fileLength ${fileLength} must be an integer >= the ${bytes.length} bytes given`);
  if (fileLength < 8) fail(`file of ${fileLength} bytes is shorter than the 8-byte header length field`);
  if (bytes.length < 8) fail(`expected at least the 8-byte header length field, got ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo; // exact: below 2^64 is not needed, any hi > 0 is rejected next
  if (hi !== 0 || headerLen > MAX_HEADER_BYTES) fail(`header length ${BigInt(hi) * 2n ** 32n + BigInt(lo)} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen > fileLength - 8) fail(`header length ${headerLen} runs past the end of the ${fileLength}-byte file`);
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} runs past the ${bytes.length} bytes given`);
  if (headerLen < 2) fail(`header length ${headerLen} is too short for a JSON object`);
  if (bytes[8] !== 0x7b) fail(`header must start with "{", found byte 0x${bytes[8].toString(16).padStart(2, "0")}`);
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail("header is not valid UTF-8");
  }
  const root = parseJsonStrict(text, (m) => fail(`header is not valid JSON: ${m}`));
  if (!(root instanceof Map)) fail(`header must be a JSON object, got ${jsonKind(root)}`);
  const dataStart = 8 + headerLen;
  const dataLen = fileLength - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  const metadata = new Map<string, string>();
  for (const [name, info] of root as JsonObject) {
    if (name === "__metadata__") {
      if (!(info instanceof Map)) fail(`"__metadata__" must be an object of strings, got ${jsonKind(info)}`);
      for (const [k, v] of info as JsonObject) {
        if (typeof v !== "string") fail(`"__metadata__" value for ${JSON.stringify(k)} must be a string, got ${jsonKind(v)}`);
        metadata.set(k, v as string);
      }
      continue;
    }
    entries.set(name, readEntry(name, info, dataLen));
  }
  // The tensors must tile the data section exactly: sorted by offset, no holes, no overlaps.
  const spans = [...entries].sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  for (const [name, e] of spans) {
    const [begin, end] = e.dataOffsets;
    if (begin < pos) fail(`tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] overlap the previous tensor, which ends at ${pos}`);
    if (begin > pos) fail(`tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] leave a hole of ${begin - pos} bytes after offset ${pos}`);
    pos = end;
  }
  if (pos !== dataLen) fail(`tensors cover ${pos} bytes but the data section holds ${dataLen} (${dataLen > pos ? "trailing bytes" : "truncated file"})`);
  return { entries, metadata, dataStart };
}

function readEntry(name: string, info: JsonValue, dataLen: number): SafetensorsEntry {
  const t = `tensor ${JSON.stringify(name)}`;
  if (!(info instanceof Map)) fail(`${t}: expected an object {dtype, shape, data_offsets}, got ${jsonKind(info)}`);
  const obj = info as JsonObject;
  for (const key of obj.keys()) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets") fail(`${t}: unknown field ${JSON.stringify(key)}`);
  }
  const dtype = obj.get("dtype");
  if (typeof dtype !== "string") fail(`${t}: dtype must be a string, got ${jsonKind(dtype)}`);
  if (!Object.hasOwn(ITEM_BYTES, dtype as string)) {
    fail(`${t}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_BYTES).join(", ")})`);
  }
  const shape = obj.get("shape");
  if (!Array.isArray(shape)) fail(`${t}: shape must be an array, got ${jsonKind(shape)}`);
  const offsets = obj.get("data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${t}: data_offsets must be [begin, end], got ${jsonKind(offsets)}`);
  const isIndex = (v: JsonValue): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  for (const d of shape as JsonValue[]) {
    if (!isIndex(d)) fail(`${t}: shape [${(shape as JsonValue[]).map((x) => JSON.stringify(x)).join(", ")}] must hold non-negative integers below 2^53`);
  }
  const [begin, end] = offsets as JsonValue[];
  if (!isIndex(begin) || !isIndex(end)) fail(`${t}: data_offsets [${JSON.stringify(begin)}, ${JSON.stringify(end)}] must be non-negative integers below 2^53`);
  const b = begin as number, e = end as number;
  if (e < b) fail(`${t}: data_offsets [${b}, ${e}] end before they begin`);
  if (e > dataLen) fail(`${t}: data_offsets [${b}, ${e}] run past the ${dataLen}-byte data section`);
  // Overflow-safe: exact BigInt product, compared with the byte span.
  const dims = shape as number[];
  const item = ITEM_BYTES[dtype as SafetensorsDType];
  const bytesNeeded = dims.reduce((acc, d) => acc * BigInt(d), BigInt(item));
  if (bytesNeeded !== BigInt(e - b)) {
    fail(`${t}: ${dtype} shape [${dims.join(", ")}] needs ${bytesNeeded} bytes but data_offsets [${b}, ${e}] span ${e - b}`);
  }
  return { dtype: dtype as SafetensorsDType, shape: dims, dataOffsets: [b, e] };
}

/** Parses a safetensors file into tensors (copied out of `bytes`) and its metadata. */
export function parseSafetensors(file: Uint8Array | ArrayBuffer): ParsedSafetensors {
  const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : file;
  const header = readSafetensorsHeader(bytes);
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, SafetensorsDType>();
  for (const [name, e] of header.entries) {
    const src = bytes.subarray(header.dataStart + e.dataOffsets[0], header.dataStart + e.dataOffsets[1]);
    const [array, dtype] = decode(name, e.dtype, src);
    tensors.set(name, Tensor.fromArray(array, e.shape, dtype));
    dtypes.set(name, e.dtype);
  }
  return { tensors, metadata: header.metadata, dtypes };
}

/**
 * Decodes one tensor of an already validated file (see readSafetensorsHeader), so a large file can
 * be read one tensor at a time without a second copy of the whole file.
 */
export function readSafetensorsTensor(bytes: Uint8Array, header: SafetensorsHeader, name: string): Tensor {
  const e = header.entries.get(name);
  if (e === undefined) fail(`no tensor named ${JSON.stringify(name)}`);
  const { dataOffsets } = e as SafetensorsEntry;
  return decodeSafetensorsEntry(name, e as SafetensorsEntry, bytes.subarray(header.dataStart + dataOffsets[0], header.dataStart + dataOffsets[1]));
}

/** Decodes one tensor from exactly its data bytes (as read from the file at dataStart + dataOffsets[0]). */
export function decodeSafetensorsEntry(name: string, entry: SafetensorsEntry, data: Uint8Array): Tensor {
  const want = entry.dataOffsets[1] - entry.dataOffsets[0];
  if (data.length !== want) fail(`tensor ${JSON.stringify(name)}: expected ${want} data bytes, got ${data.length}`);
  const [array, dt] = decode(name, entry.dtype, data);
  return Tensor.fromArray(array, entry.shape, dt);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A copy of `src` in an aligned buffer, in host byte order. */
function hostCopy(src: Uint8Array, item: number): ArrayBuffer {
  const out = new Uint8Array(src.length);
  out.set(src);
  if (!LITTLE_ENDIAN && item > 1) for (let i = 0; i < out.length; i += item) out.subarray(i, i + item).reverse();
  return out.buffer;
}

let halfTable: Float32Array | null = null;

/** IEEE 754 binary16 -> binary32 for all 65536 bit patterns (subnormals, inf and NaN included). */
function halfToFloatTable(): Float32Array {
  if (halfTable !== null) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    halfTable[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

function decode(name: string, dtype: SafetensorsDType, src: Uint8Array): [AnyArray, DType] {
  const n = src.length / ITEM_BYTES[dtype];
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const t = `tensor ${JSON.stringify(name)}`;
  switch (dtype) {
    case "F64": return [new Float64Array(hostCopy(src, 8)), "float64"];
    case "F32": return [new Float32Array(hostCopy(src, 4)), "float32"];
    case "I32": return [new Int32Array(hostCopy(src, 4)), "int32"];
    case "F16": {
      const table = halfToFloatTable(), out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
      return [out, "float32"];
    }
    case "BF16": {
      // bfloat16 is the top half of a float32: shift the bits up
      const out = new Float32Array(n), bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return [out, "float32"];
    }
    case "I64": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(8 * i, true), hi = dv.getInt32(8 * i + 4, true);
        // fits in int32 iff the high word is the sign extension of the low word
        if (hi !== (lo | 0) >> 31) fail(`${t}: I64 value ${(BigInt(hi) << 32n) + BigInt(lo)} at index ${i} does not fit in int32`);
        out[i] = lo | 0;
      }
      return [out, "int32"];
    }
    case "U32": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getUint32(4 * i, true);
        if (v > 0x7fffffff) fail(`${t}: U32 value ${v} at index ${i} does not fit in int32`);
        out[i] = v;
      }
      return [out, "int32"];
    }
    case "I16": return [Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true)), "int32"];
    case "U16": return [Int32Array.from({ length: n }, (_, i) => dv.getUint16(2 * i, true)), "int32"];
    case "I8": return [Int32Array.from(new Int8Array(src.buffer, src.byteOffset, n)), "int32"];
    case "U8": return [Int32Array.from(src), "int32"];
    case "BOOL": {
      for (let i = 0; i < n; i++) if (src[i] > 1) fail(`${t}: BOOL byte ${src[i]} at index ${i} is neither 0 nor 1`);
      return [src.slice(), "bool"];
    }
    default: return dtype satisfies never;
  }
}

const WRITE_DTYPE: Record<DType, SafetensorsDType> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };

/**
 * Writes tensors (float32 -> F32, float64 -> F64, int32 -> I32, bool -> BOOL) and string metadata
 * as safetensors bytes, in the given order. The header is padded with spaces so the data starts at
 * a multiple of 8 bytes, as the reference writer does.
 */
export function serializeSafetensors(
  tensors: Map<string, Tensor> | readonly (readonly [string, Tensor])[],
  metadata?: Record<string, string> | Map<string, string>,
): Uint8Array {
  const sfn = "serializeSafetensors";
  const err = (m: string): never => {
    throw new SafetensorsError(`${sfn}: ${m}`);
  };
  const list = tensors instanceof Map ? [...tensors] : [...tensors];
  const seen = new Set<string>();
  const parts: string[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    if (typeof name !== "string") err(`tensor names must be strings, got ${typeof name}`);
    if (name === "__metadata__") err(`"__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) err(`duplicate tensor name ${JSON.stringify(name)}`);
    seen.add(name);
    if (!(t instanceof Tensor)) err(`entry ${JSON.stringify(name)} is not a Tensor`);
    const values = t.values;
    let raw: Uint8Array;
    if (t.dtype === "bool") raw = Uint8Array.from(values, (v) => (v ? 1 : 0));
    else if (LITTLE_ENDIAN) raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength); // a view: copied once, below
    else {
      raw = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
      const item = values.BYTES_PER_ELEMENT;
      for (let i = 0; i < raw.length; i += item) raw.subarray(i, i + item).reverse();
    }
    const info = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + raw.length] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    chunks.push(raw);
    offset += raw.length;
  }
  // __metadata__ goes last, where the reference writer puts it
  if (metadata !== undefined) {
    const meta = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
    for (const [k, v] of meta) if (typeof v !== "string") err(`metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  }
  // Built as text, never through a JS object, so a tensor named __proto__ is only a name.
  let header = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = header.length + ((8 - ((8 + header.length) % 8)) % 8);
  if (padded !== header.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let pos = 8 + header.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function jsonKind(v: JsonValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Map) return "an object";
  return `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

function describe(v: unknown): string {
  return v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v;
}
