// qkv convert SRC --out DST: a qkv checkpoint <-> a Hugging Face GPT-2 directory (config.json +
// model.safetensors that transformers' GPT2LMHeadModel.from_pretrained loads). The direction
// follows SRC unless --to says otherwise.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { GPT, gptConfig, type GPTConfig } from "../../nn/gpt.js";
import { isHfGpt2Dir, loadCheckpoint, loadPretrained, saveCheckpoint, saveHfGpt2 } from "../../node.js";
import { Rng } from "../../util/random.js";
import { choiceFlag, parseFlags, UsageError, type Command } from "../args.js";

const NAME = "convert";
/** config.json field that carries qkv's tokenizer description through a Hugging Face directory. */
export const HF_TOKENIZER_FIELD = "qkv_tokenizer";

const usage = `Usage: qkv convert SRC --out DST [--to hf|qkv]

Converts between a qkv checkpoint and a Hugging Face GPT-2 directory.
  SRC a qkv checkpoint (a run folder, meaning its latest checkpoint, or one step folder)
      -> DST a Hugging Face directory: config.json + model.safetensors (GPT-2 names, F32)
  SRC a Hugging Face GPT-2 directory (config.json + model.safetensors)
      -> DST a qkv run folder holding step-00000000 (no optimizer state; qkv sample reads it)

Only GPT-2-shaped models convert to Hugging Face: learned positions, biases, no GQA, no sliding window.

Options:
  --out DST        output directory (required)
  --to hf|qkv      force the direction (default: from what SRC holds)
  -h, --help       show this help`;

/** Converts; returns a one-line description of what was written. */
export async function convert(src: string, out: string, to?: "hf" | "qkv"): Promise<string> {
  const direction = to ?? ((await isHfGpt2Dir(src)) ? "qkv" : "hf");
  if (direction === "qkv") {
    const model = await loadPretrained(src);
    const hfCfg = JSON.parse(await readFile(resolve(src, "config.json"), "utf8")) as Record<string, unknown>;
    const tokenizer = hfCfg[HF_TOKENIZER_FIELD] ?? (model.config.vocabSize === 50257 ? { kind: "gpt2" } : null);
    const dir = await saveCheckpoint(out, {
      config: { ...model.config },
      model: model.stateDict(),
      optimizer: new Map(),
      state: { step: 0, tokenizer, source: { format: "huggingface-gpt2", path: resolve(src) } },
    });
    return `wrote qkv checkpoint ${dir} (${model.numParameters().toLocaleString("en-US")} parameters)`;
  }
  const ckpt = await loadCheckpoint(src);
  const model = new GPT(gptConfig(ckpt.config as Partial<GPTConfig>), { rng: new Rng(0) });
  model.loadStateDict(ckpt.model);
  const tokenizer = ckpt.state.tokenizer;
  await saveHfGpt2(out, model, { extraConfig: tokenizer ? { [HF_TOKENIZER_FIELD]: tokenizer } : {} });
  return `wrote Hugging Face GPT-2 directory ${resolve(out)} from ${ckpt.dir} (${model.numParameters().toLocaleString("en-US")} parameters)`;
}

export const convertCommand: Command = {
  name: NAME,
  summary: "qkv checkpoint <-> Hugging Face GPT-2 directory (config.json + model.safetensors)",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(NAME, argv, { out: { type: "string" }, to: { type: "string" } }, { positionals: 1 });
    const v = values as Record<string, string | undefined>;
    if (positionals.length !== 1) throw new UsageError(`${NAME}: expected one SRC directory`);
    if (v.out === undefined) throw new UsageError(`${NAME}: --out DST is required`);
    const to = v.to === undefined ? undefined : choiceFlag(NAME, "to", v.to, ["hf", "qkv"] as const);
    console.log(await convert(positionals[0], v.out, to));
    return 0;
  },
};
