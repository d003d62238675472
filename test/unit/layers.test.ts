// The layering of ARCHITECTURE.md, enforced: which src/ folders may import which, where Node
// built-ins may appear, and that the library never calls Math.random.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative, resolve, dirname } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/fixtures.js";

type Layer = "util" | "backend" | "tensor" | "ops" | "nn" | "mid" | "train" | "node" | "cli" | "index";

/** The layer of a path relative to src/. tensor and autograd form one layer; optim, io, data and explain another. */
export function layerOf(rel: string): Layer | null {
  const top = rel.split("/")[0];
  if (rel === "index.ts") return "index";
  if (rel === "node.ts" || top === "node") return "node";
  if (top === "autograd") return "tensor";
  if (["optim", "io", "data", "explain"].includes(top)) return "mid";
  if (["util", "backend", "tensor", "ops", "nn", "train", "cli"].includes(top)) return top as Layer;
  return null;
}

const allowed: Record<Layer, Layer[]> = {
  util: ["util"],
  backend: ["util", "backend"],
  tensor: ["util", "tensor"],
  ops: ["util", "backend", "tensor", "ops"],
  nn: ["util", "tensor", "ops", "nn"],
  mid: ["util", "tensor", "ops", "nn", "mid"],
  train: ["util", "tensor", "ops", "nn", "mid", "train"],
  index: ["util", "backend", "tensor", "ops", "nn", "mid", "train", "index"],
  node: ["util", "backend", "tensor", "ops", "nn", "mid", "train", "index", "node"],
  cli: ["util", "backend", "tensor", "ops", "nn", "mid", "train", "index", "node", "cli"],
};

const NODE_OK: Layer[] = ["node", "cli"];
const builtins = new Set(builtinModules);

function isBuiltin(spec: string): boolean {
  return spec.startsWith("node:") || builtins.has(spec.split("/")[0]);
}

/** Problems in one file, given its path relative to src/ and its text. */
export function checkFile(rel: string, text: string): string[] {
  const problems: string[] = [];
  const layer = layerOf(rel);
  if (layer === null) return [`${rel}: not in any layer of ARCHITECTURE.md`];
  if (/\bMath\.random\s*\(/.test(text)) problems.push(`${rel}: calls Math.random (use util/random.ts)`);
  const specs = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm)].map((m) => m[1] ?? m[2]);
  for (const spec of specs) {
    if (spec.startsWith(".")) {
      const target = relative("/src", resolve(dirname(join("/src", rel)), spec)).replace(/\.js$/, ".ts");
      const tl = layerOf(target);
      // tensor.ts delegates its methods to ops; tensors hold the Storage that backend/storage.ts defines
      const sanctioned = (rel === "tensor/tensor.ts" && tl === "ops") || (layer === "tensor" && target === "backend/storage.ts");
      if (tl === null) problems.push(`${rel}: imports ${spec}, outside the layers`);
      else if (!allowed[layer].includes(tl) && !sanctioned) problems.push(`${rel} (${layer}) imports ${spec} (${tl})`);
    } else if (isBuiltin(spec) && !NODE_OK.includes(layer)) {
      problems.push(`${rel}: imports the Node built-in ${spec}; only cli/, node.ts and node/ may`);
    }
  }
  if (!NODE_OK.includes(layer) && /\bprocess\.(env|argv|exit|stdout|stderr|cwd)\b/.test(text.replace(/globalThis\.process\?\./g, ""))) {
    problems.push(`${rel}: uses process; only cli/, node.ts and node/ may`);
  }
  return problems;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("layers: every file in src/ imports only the layers below it, and no Math.random or stray Node built-ins", () => {
  const src = join(repoRoot, "src");
  const problems = walk(src).flatMap((p) => checkFile(relative(src, p).split("\\").join("/"), readFileSync(p, "utf8")));
  assert.deepEqual(problems, []);
});

test("layers: web/ imports only the public entry src/index.ts", () => {
  let files: string[] = [];
  try {
    files = walk(join(repoRoot, "web"));
  } catch {
    return; // no web/ folder yet
  }
  const problems: string[] = [];
  for (const p of files) {
    for (const m of readFileSync(p, "utf8").matchAll(/from\s*["']([^"']+)["']/g)) {
      const spec = m[1];
      if (isBuiltin(spec)) problems.push(`${p}: imports Node built-in ${spec}`);
      if (spec.includes("/src/") && !/\/src\/index(\.js|\.ts)?$/.test(spec)) problems.push(`${p}: imports internal ${spec}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("layers: the checker catches an upward import, a Node built-in, Math.random and an unknown folder", () => {
  assert.match(checkFile("ops/x.ts", `import { Linear } from "../nn/linear.js";`).join(), /ops\/x\.ts \(ops\) imports \.\.\/nn\/linear\.js \(nn\)/);
  assert.match(checkFile("backend/x.ts", `import { Tensor } from "../tensor/tensor.js";`).join(), /backend/);
  assert.match(checkFile("nn/x.ts", `import { readFileSync } from "node:fs";`).join(), /Node built-in node:fs/);
  assert.match(checkFile("io/x.ts", `import fs from "fs";`).join(), /Node built-in fs/);
  assert.match(checkFile("util/x.ts", `const r = Math.random();`).join(), /Math\.random/);
  assert.match(checkFile("data/x.ts", `const e = process.env.X;`).join(), /uses process/);
  assert.match(checkFile("misc/x.ts", ``).join(), /not in any layer/);
  assert.deepEqual(checkFile("tensor/tensor.ts", `import * as F from "../ops/index.js";`), []);
  assert.deepEqual(checkFile("cli/x.ts", `import { readFileSync } from "node:fs";\nimport { tensor } from "../index.js";`), []);
  assert.match(checkFile("explain/x.ts", `import { PartyTrainer } from "../train/party.js";`).join(), /\(mid\) imports/);
  assert.match(checkFile("tensor/create.ts", `import { add } from "../ops/elementwise.js";`).join(), /tensor\/create\.ts \(tensor\) imports/);
});
