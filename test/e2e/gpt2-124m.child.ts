// Child process of gpt2-124m.test.ts (run alone, so its peak RSS is the loader's):
//   node gpt2-124m.child.js write DIR   writes a GPT-2 124M-shaped Hugging Face directory (random weights)
//   node gpt2-124m.child.js run DIR     loads it, runs a 64-token forward pass, generates 16 tokens after an
//                                        8-token prompt with the KV cache, prints one JSON line (timings, peak RSS)
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { noGrad } from "../../src/autograd/no-grad.js";
import { loadPretrained } from "../../src/node.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

export const GPT2_SMALL = { vocab_size: 50257, n_positions: 1024, n_ctx: 1024, n_embd: 768, n_layer: 12, n_head: 12 };

/** GPT-2 small's tensors in published order with their shapes. */
function gpt2Shapes(): [string, number[]][] {
  const { vocab_size: V, n_positions: P, n_embd: C, n_layer: L } = GPT2_SMALL;
  const out: [string, number[]][] = [["wte.weight", [V, C]], ["wpe.weight", [P, C]]];
  for (let i = 0; i < L; i++) {
    const h = `h.${i}.`;
    out.push([h + "ln_1.weight", [C]], [h + "ln_1.bias", [C]], [h + "attn.c_attn.weight", [C, 3 * C]], [h + "attn.c_attn.bias", [3 * C]],
      [h + "attn.c_proj.weight", [C, C]], [h + "attn.c_proj.bias", [C]], [h + "ln_2.weight", [C]], [h + "ln_2.bias", [C]],
      [h + "mlp.c_fc.weight", [C, 4 * C]], [h + "mlp.c_fc.bias", [4 * C]], [h + "mlp.c_proj.weight", [4 * C, C]], [h + "mlp.c_proj.bias", [C]]);
  }
  out.push(["ln_f.weight", [C]], ["ln_f.bias", [C]]);
  return out;
}

/** Streams the file tensor by tensor (never the whole 500 MB in memory): weights ~ U(-0.035, 0.035), norms 1, biases small. */
function write(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const shapes = gpt2Shapes();
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const fd = openSync(join(dir, "model.safetensors"), "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, json);
  const rng = new Rng(124);
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (/ln_\d\.weight|ln_f\.weight/.test(name)) values.fill(1);
    else {
      const amp = name.endsWith(".bias") ? 0.002 : 0.035;
      for (let i = 0; i < n; i++) values[i] = amp * (2 * rng.next() - 1);
    }
    writeSync(fd, new Uint8Array(values.buffer));
  }
  closeSync(fd);
  const config = { model_type: "gpt2", architectures: ["GPT2LMHeadModel"], ...GPT2_SMALL, activation_function: "gelu_new", layer_norm_epsilon: 1e-5, tie_word_embeddings: true };
  const cfd = openSync(join(dir, "config.json"), "w");
  writeSync(cfd, JSON.stringify(config, null, 2));
  closeSync(cfd);
}

/** Index of the largest of V logits at position t of a (1, T, V) result. */
function argmaxAt(values: ArrayLike<number>, t: number, V: number): number {
  let best = t * V;
  for (let i = t * V + 1; i < (t + 1) * V; i++) if (values[i] > values[best]) best = i;
  return best - t * V;
}

async function run(dir: string): Promise<void> {
  const V = GPT2_SMALL.vocab_size;
  const t0 = performance.now();
  const model = await loadPretrained(dir);
  const t1 = performance.now();
  const ids = Array.from({ length: 64 }, (_, i) => (i * 7919) % V);
  const logits = noGrad(() => model.forward(Tensor.fromArray(Int32Array.from(ids), [1, 64], "int32")));
  const t2 = performance.now();
  let finite = true;
  for (const v of logits.values) if (!Number.isFinite(v)) finite = false;
  // greedy decoding after the first 8 tokens: causality says its first token is the argmax at position 7
  const tokens = [...model.generate(ids.slice(0, 8), { maxNewTokens: 16, temperature: 0 })];
  const t3 = performance.now();
  console.log(JSON.stringify({
    shape: logits.shape, finite, argmaxAt7: argmaxAt(logits.values, 7, V), tokens, parameters: model.numParameters(),
    loadMs: t1 - t0, forwardMs: t2 - t1, generateMs: t3 - t2, maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }));
}

const [mode, dir] = process.argv.slice(2);
if (mode === "write") write(dir);
else if (mode === "run") await run(dir);
else throw new Error(`gpt2-124m.child: expected "write DIR" or "run DIR", got ${process.argv.slice(2).join(" ")}`);
