// qkv sample DIR: stream text from a trained checkpoint, one token at a time, with the KV cache.
import { CharTokenizer, tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from "../../data/tokenizer.js";
import { GPT, gptConfig, type GenerateOptions, type GPTConfig } from "../../nn/gpt.js";
import { isHfGpt2Dir, loadCheckpoint, loadGpt } from "../../node.js";
import { Rng } from "../../util/random.js";
import { numberFlag, parseFlags, UsageError, type Command } from "../args.js";
import { getBackend } from "../../backend/select.js";
import { useBackend } from "../backend-flag.js";

const usage = `Usage: qkv sample DIR [options]

Streams text from the model in checkpoint DIR (a run folder, meaning its latest checkpoint, or one
checkpoint folder), decoding one token at a time with the KV cache. DIR may also be a Hugging Face
GPT-2 directory (config.json + model.safetensors, e.g. the published 124M gpt2), with GPT-2's BPE.

Options:
  --prompt TEXT        text to continue (default: a newline, or <|endoftext|> for GPT-2 BPE)
  --tokens N           tokens to generate (default 200)
  --temperature X      0 picks the most likely token every time (default 0.8)
  --top-k N            sample among the N most likely tokens, 0 for all (default 200)
  --top-p X            nucleus sampling: the smallest set with probability >= X (default 1)
  --seed N             sampling seed (default 1337)
  --backend NAME       kernel backend: js, wasm or webgpu (default: wasm where supported)`;

/** Token ids for `prompt`; an empty prompt starts from a newline (char) or <|endoftext|> (GPT-2). */
export function promptIds(tokenizer: Tokenizer, prompt: string): number[] {
  if (prompt.length > 0) return tokenizer.encode(prompt);
  if (tokenizer instanceof CharTokenizer) return [Math.max(0, tokenizer.chars.indexOf("\n"))];
  return [50256];
}

/** Generates after `prompt`, writing text to stdout as it comes; returns the new ids. */
export async function streamSample(model: GPT, tokenizer: Tokenizer, prompt: string, opts: GenerateOptions): Promise<number[]> {
  const ids: number[] = [];
  let pending: number[] = [];
  const ids0 = promptIds(tokenizer, prompt);
  for await (const id of getBackend() === "webgpu" ? model.generateAsync(ids0, opts) : model.generate(ids0, opts)) {
    ids.push(id);
    pending.push(id);
    // a BPE token may end inside a multi-byte character (decoded as U+FFFD): wait for the rest
    const text = tokenizer.decode(pending);
    if (!text.endsWith("\uFFFD")) {
      process.stdout.write(text);
      pending = [];
    }
    await new Promise((res) => setImmediate(res));
  }
  process.stdout.write(tokenizer.decode(pending) + "\n");
  return ids;
}

/** Model and tokenizer from a checkpoint written by qkv train. */
export async function loadModel(dir: string, loaded?: Awaited<ReturnType<typeof loadCheckpoint>>): Promise<{ model: GPT; tokenizer: Tokenizer; state: Record<string, unknown> }> {
  const ckpt = loaded ?? (await loadCheckpoint(dir));
  const model = new GPT(gptConfig(ckpt.config as Partial<GPTConfig>), { rng: new Rng(0) });
  model.loadStateDict(ckpt.model);
  const tokenizer = await tokenizerFromJSON(ckpt.state.tokenizer as TokenizerJSON);
  return { model, tokenizer, state: ckpt.state };
}

/** A qkv checkpoint, or a Hugging Face GPT-2 directory (GPT-2's BPE unless its config.json names a qkv tokenizer). */
async function loadSampleModel(dir: string): Promise<{ model: GPT; tokenizer: Tokenizer }> {
  if (!(await isHfGpt2Dir(dir))) return loadModel(dir);
  const { model, tokenizer } = await loadGpt(dir);
  if (tokenizer === null) throw new Error(`sample: ${dir} holds a ${model.config.vocabSize}-token GPT-2 and names no tokenizer; qkv knows GPT-2's BPE (50257 tokens) or a qkv_tokenizer field in config.json`);
  return { model, tokenizer: await tokenizerFromJSON(tokenizer as TokenizerJSON) };
}

export const sample: Command = {
  name: "sample",
  summary: "stream text from a trained checkpoint (KV cache; temperature, top-k, top-p)",
  usage,
  async run(argv) {
    const parsed = parseFlags("sample", argv, {
      prompt: { type: "string" }, tokens: { type: "string" }, temperature: { type: "string" },
      "top-k": { type: "string" }, "top-p": { type: "string" }, seed: { type: "string" }, backend: { type: "string" },
    }, { positionals: 1 });
    const values = parsed.values as Record<string, string | boolean | undefined>, positionals = parsed.positionals;
    if (positionals.length !== 1) throw new UsageError("sample: expected one checkpoint DIR");
    const opts: GenerateOptions = {
      maxNewTokens: values.tokens === undefined ? 200 : numberFlag("sample", "tokens", values.tokens, { min: 0 }),
      temperature: values.temperature === undefined ? 0.8 : numberFlag("sample", "temperature", values.temperature, { min: 0, integer: false }),
      topK: values["top-k"] === undefined ? 200 : numberFlag("sample", "top-k", values["top-k"], { min: 0 }),
      topP: values["top-p"] === undefined ? 1 : numberFlag("sample", "top-p", values["top-p"], { min: 1e-9, max: 1, integer: false }),
      rng: new Rng(values.seed === undefined ? 1337 : numberFlag("sample", "seed", values.seed, { min: 0 })),
    };
    await useBackend("sample", values.backend as string | undefined);
    const { model, tokenizer } = await loadSampleModel(positionals[0]);
    const prompt = typeof values.prompt === "string" ? values.prompt : "";
    process.stdout.write(prompt);
    await streamSample(model, tokenizer, prompt, opts);
    return 0;
  },
};
