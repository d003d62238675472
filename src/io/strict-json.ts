// A strict JSON parser for untrusted file headers: objects become Maps (so a key named __proto__ is
// plain data), duplicate keys and nesting deeper than `maxDepth` are errors, and it never recurses
// past that depth, so hostile input cannot exhaust the stack. Loaders never evaluate code.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Parses `text` as one JSON value; `fail` is called with a message (and must throw) on any problem. */
export function parseJsonStrict(text: string, fail: (message: string) => never, maxDepth = 64): JsonValue {
  let i = 0;
  const n = text.length;
  const where = (): string => (i < n ? `${JSON.stringify(text[i])} at position ${i}` : "the end of the text");

  const skipSpace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };

  const expect = (ch: string): void => {
    skipSpace();
    if (text[i] !== ch) fail(`expected ${JSON.stringify(ch)}, found ${where()}`);
    i++;
  };

  const readString = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(`bad \\u escape at position ${i}`);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
          i += 2;
        } else fail(`bad escape \\${e ?? ""} at position ${i}`);
        start = i;
        continue;
      }
      if (c < 0x20) fail(`unescaped control character 0x${c.toString(16)} in a string at position ${i}`);
      i++;
    }
  };

  const readValue = (depth: number): JsonValue => {
    skipSpace();
    if (i >= n) fail("unexpected end of the text");
    const c = text[i];
    if (c === "{" || c === "[") {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth} levels at position ${i}`);
      i++;
      skipSpace();
      if (c === "[") {
        const arr: JsonValue[] = [];
        if (text[i] === "]") { i++; return arr; }
        for (;;) {
          arr.push(readValue(depth + 1));
          skipSpace();
          if (text[i] === ",") { i++; continue; }
          if (text[i] === "]") { i++; return arr; }
          fail(`expected "," or "]" in an array, found ${where()}`);
        }
      }
      const obj: JsonObject = new Map();
      if (text[i] === "}") { i++; return obj; }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`expected a string key, found ${where()}`);
        const keyAt = i;
        const key = readString();
        if (obj.has(key)) fail(`duplicate key ${JSON.stringify(key)} at position ${keyAt}`);
        expect(":");
        obj.set(key, readValue(depth + 1));
        skipSpace();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return obj; }
        fail(`expected "," or "}" in an object, found ${where()}`);
      }
    }
    if (c === '"') return readString();
    if (text.startsWith("true", i)) { i += 4; return true; }
    if (text.startsWith("false", i)) { i += 5; return false; }
    if (text.startsWith("null", i)) { i += 4; return null; }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) fail(`unexpected ${where()}`);
    i += m[0].length;
    return Number(m[0]);
  };

  const value = readValue(0);
  skipSpace();
  if (i < n) fail(`unexpected ${where()} after the JSON value`);
  return value;
}
