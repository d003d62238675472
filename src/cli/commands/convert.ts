// qkv convert SRC --out DST: a qkv checkpoint <-> a Hugging Face GPT-2 directory (config.json +
// model.safetensors that transformers' GPT2LMHeadModel.from_pretrained loads). The direction
// follows SRC unless --to says otherwise.
import { resolve } from "node:path";
import { HF_TOKENIZER_FIELD, loadGpt, saveCheckpoint, saveHfGpt2 } from "../../node.js";
import { choiceFlag, parseFlags, UsageError, type Command } from "../args.js";

const NAME = "convert";

const usage = `Usage: qkv convert SRC --out DST [--to hf|qkv]

Converts between a qkv checkpoint and a Hugging Face GPT-2 directory.
  SRC a qkv checkpoint (a run folder, meaning its latest checkpoint, or one step folder)
      -> DST a Hugging Face directory: config.json + model.safetensors (GPT-2 names, F32)
  SRC a Hugging Face GPT-2 directory (config.json + model.safetensors)
      -> DST a qkv run folder holding step-00000000 (no optimizer state; qkv sample reads it)

Only GPT-2-shaped models convert to Hugging Face: learned positions, biases, no GQA, no sliding window.

Options:
  --out DST        output directory (required)
  --to hf|qkv      force the output format (default: the other one than SRC's)
  -h, --help       show this help`;

/** Converts; returns a one-line description of what was written. */
export async function convert(src: string, out: string, to?: "hf" | "qkv"): Promise<string> {
  const { model, tokenizer, format, dir } = await loadGpt(src);
  const direction = to ?? (format === "huggingface" ? "qkv" : "hf");
  const count = model.numParameters().toLocaleString("en-US");
  if (direction === "qkv") {
    const written = await saveCheckpoint(out, {
      config: { ...model.config },
      model: model.stateDict(),
      optimizer: new Map(),
      state: { step: 0, tokenizer, source: { format, path: resolve(dir) } },
    });
    return `wrote qkv checkpoint ${written} from ${dir} (${count} parameters)`;
  }
  await saveHfGpt2(out, model, { extraConfig: tokenizer ? { [HF_TOKENIZER_FIELD]: tokenizer } : {} });
  return `wrote Hugging Face GPT-2 directory ${resolve(out)} from ${dir} (${count} parameters)`;
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
