// qkv resume DIR: continue a run from its checkpoint, reproducing the uninterrupted run exactly.
import { splitTokens } from "../../data/batches.js";
import { Trainer, type TrainerState } from "../../train/trainer.js";
import { numberFlag, parseFlags, UsageError, type Command } from "../args.js";
import { readCorpus } from "../corpus.js";
import { useBackend } from "../backend-flag.js";
import { runTraining, type RunOptions } from "../train-loop.js";
import { getBackend } from "../../backend/select.js";
import { loadModel } from "./sample.js";
import { loadCheckpoint } from "../../node.js";

const usage = `Usage: qkv resume DIR [options]

Continues the training run saved in DIR (a run folder, meaning its latest checkpoint, or one
checkpoint folder) with the options it was started with. With the same step count the losses are
bit-identical to a run that was never interrupted.

Options:
  --steps N     train to N steps in total instead (changes the learning-rate schedule)
  --json        one JSON object per line on stdout instead of the progress bar
  --backend NAME  kernel backend (default: the one the run started with)
  --serve       open the attention visualizer while training (prints a local URL)
  --host HOST   interface for --serve (default 127.0.0.1)
  --port N      port for --serve (default: a random free port)`;

export const resume: Command = {
  name: "resume",
  summary: "continue a training run from its checkpoint, exactly",
  usage,
  async run(argv) {
    const parsed = parseFlags("resume", argv, { steps: { type: "string" }, json: { type: "boolean" }, backend: { type: "string" }, serve: { type: "boolean" }, host: { type: "string" }, port: { type: "string" } }, { positionals: 1 });
    const values = parsed.values as Record<string, string | boolean | undefined>, positionals = parsed.positionals;
    if (positionals.length !== 1) throw new UsageError("resume: expected one checkpoint DIR");
    const ckpt = await loadCheckpoint(positionals[0]);
    const saved = ckpt.state.options as RunOptions;
    if (typeof saved !== "object" || saved === null || typeof saved.train !== "object") throw new Error(`qkv resume: ${positionals[0]} holds no training options (was it written by qkv train?)`);
    // the backend first: the model's parameters are made on it
    await useBackend("resume", (values.backend as string | undefined) ?? (typeof saved.backend === "string" ? saved.backend : undefined));
    const { model, tokenizer, state } = await loadModel(positionals[0], ckpt);
    const options: RunOptions = { ...saved, json: values.json === true ? true : saved.json, backend: getBackend() };
    if (values.steps !== undefined) options.train = { ...saved.train, steps: numberFlag("resume", "steps", values.steps, { min: 1 }) };
    const tokens = Int32Array.from(tokenizer.encode(readCorpus(saved.data)));
    if (tokens.length !== saved.dataTokens) throw new Error(`qkv resume: ${saved.data ?? "the Moby-Dick corpus"} now has ${tokens.length} tokens, the run started with ${saved.dataTokens}`);
    const trainer = new Trainer(model, splitTokens(tokens, saved.valFraction), options.train);
    trainer.optimizer.loadStateDict(ckpt.optimizer);
    trainer.restore(state.trainer as TrainerState);
    const serve = values.serve ? { host: typeof values.host === "string" ? values.host : undefined, port: values.port === undefined ? 0 : numberFlag("resume", "port", values.port, { min: 0, max: 65535 }) } : null;
    return runTraining({ trainer, tokenizer, options, serve });
  },
};
