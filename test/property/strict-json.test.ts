// The strict header JSON parser agrees with JSON.parse on every valid JSON text (objects as Maps),
// and refuses what JSON.parse silently accepts: duplicate keys.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseJsonStrict, type JsonValue } from "../../src/io/strict-json.js";

const fail = (m: string): never => {
  throw new Error(m);
};

/** JSON.parse's result with objects turned into Maps, own keys in order (a __proto__ key included). */
function toMaps(v: unknown): JsonValue {
  if (Array.isArray(v)) return v.map(toMaps);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toMaps(x)]));
  return v as JsonValue;
}

test("strict JSON: parses every JSON.stringify output exactly as JSON.parse does", () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 2, "\t"), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      assert.deepEqual(parseJsonStrict(text, fail), toMaps(JSON.parse(text)));
    }),
    { numRuns: 500, seed: 20261204 },
  );
});

test("strict JSON: escapes, a __proto__ key, and the errors JSON.parse does not raise", () => {
  const v = parseJsonStrict('{"__proto__": {"a\\u00e9\\n": [1, -2.5e3, true, null]}}', fail) as Map<string, JsonValue>;
  assert.deepEqual([...v.keys()], ["__proto__"]);
  assert.deepEqual(v.get("__proto__"), new Map([["a\u00e9\n", [1, -2500, true, null]]]));
  assert.throws(() => parseJsonStrict('{"a":1,"a":2}', fail), /duplicate key "a" at position 7/);
  assert.throws(() => parseJsonStrict("[".repeat(65) + "]".repeat(65), fail), /nesting deeper than 64 levels/);
  assert.throws(() => parseJsonStrict("01", fail), /unexpected "1" at position 1 after the JSON value/);
  assert.throws(() => parseJsonStrict("[1,]", fail), /unexpected "]" at position 3/);
  assert.throws(() => parseJsonStrict('{"a" 1}', fail), /expected ":", found "1" at position 5/);
  assert.throws(() => parseJsonStrict('"\\u12"', fail), /bad \\u escape at position 1/);
});
