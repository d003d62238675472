// Loads the PyTorch reference fixtures copied into test/fixtures (never ../shared).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tensor } from "../../src/tensor/create.js";
import type { DType } from "../../src/tensor/storage.js";
import type { Tensor } from "../../src/tensor/tensor.js";

export interface Json {
  shape: number[];
  data: (number | boolean)[];
}

/** The repository root: the nearest folder above this file that holds package.json. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
})();

export function fixturePath(name: string): string {
  return join(repoRoot, "test", "fixtures", name);
}

export function loadFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), "utf8")) as T;
}

export function fromJson(j: Json, opts: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  const dtype = opts.dtype ?? (typeof j.data[0] === "boolean" ? "bool" : "float32");
  return tensor(j.data.map(Number), j.shape, { dtype, requiresGrad: opts.requiresGrad });
}
