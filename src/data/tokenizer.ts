// Tokenizers: characters (the vocabulary travels in the checkpoint) and GPT-2's byte-level BPE
// (ranks shipped by the gpt-tokenizer package, loaded on first use, so it works offline).
import { check } from "../util/assert.js";

export type TokenizerJSON = { kind: "char"; chars: string[] } | { kind: "gpt2" };

export interface Tokenizer {
  readonly kind: TokenizerJSON["kind"];
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** What a checkpoint stores to rebuild this tokenizer. */
  toJSON(): TokenizerJSON;
}

/** One token per Unicode code point; ids follow code-point order (nanoGPT's shakespeare_char). */
export class CharTokenizer implements Tokenizer {
  readonly kind = "char";
  readonly chars: readonly string[];
  readonly #ids: Map<string, number>;

  constructor(chars: readonly string[]) {
    check(chars.length > 0 && new Set(chars).size === chars.length, "CharTokenizer", `expected distinct characters, got ${chars.length} with ${chars.length - new Set(chars).size} repeats`);
    this.chars = [...chars];
    this.#ids = new Map(this.chars.map((ch, i) => [ch, i]));
  }

  /** The vocabulary of `text`: its distinct code points, sorted. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(Array.from(text))].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number)));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    return Array.from(text, (ch) => {
      const id = this.#ids.get(ch);
      check(id !== undefined, "CharTokenizer.encode", () => `character ${JSON.stringify(ch)} (U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}) is not in the ${this.chars.length}-character vocabulary`);
      return id;
    });
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => {
      check(Number.isInteger(id) && id >= 0 && id < this.chars.length, "CharTokenizer.decode", `id ${id} is out of range [0, ${this.chars.length})`);
      return this.chars[id];
    }).join("");
  }

  toJSON(): TokenizerJSON {
    return { kind: "char", chars: [...this.chars] };
  }
}

interface Bpe {
  encode(text: string): number[];
  decode(ids: Iterable<number>): string;
}

/** GPT-2's byte-level BPE (r50k_base, 50257 tokens). Build with `await Gpt2Tokenizer.load()`. */
export class Gpt2Tokenizer implements Tokenizer {
  readonly kind = "gpt2";
  readonly vocabSize = 50257;
  readonly #bpe: Bpe;

  private constructor(bpe: Bpe) {
    this.#bpe = bpe;
  }

  static async load(): Promise<Gpt2Tokenizer> {
    const bpe: Bpe = await import("gpt-tokenizer/encoding/r50k_base");
    return new Gpt2Tokenizer(bpe);
  }

  encode(text: string): number[] {
    return this.#bpe.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.#bpe.decode(ids);
  }

  toJSON(): TokenizerJSON {
    return { kind: "gpt2" };
  }
}

/** Rebuilds a tokenizer from its checkpoint JSON. */
export async function tokenizerFromJSON(json: TokenizerJSON): Promise<Tokenizer> {
  check(typeof json === "object" && json !== null, "tokenizerFromJSON", `expected an object, got ${JSON.stringify(json)}`);
  if (json.kind === "char") {
    check(Array.isArray(json.chars) && json.chars.every((c) => typeof c === "string"), "tokenizerFromJSON", "a char tokenizer needs its list of characters");
    return new CharTokenizer(json.chars);
  }
  check(json.kind === "gpt2", "tokenizerFromJSON", `unknown tokenizer kind ${JSON.stringify((json as { kind: unknown }).kind)}`);
  return Gpt2Tokenizer.load();
}
