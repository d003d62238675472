// qkv inspect: attention of a trained model on a prompt, per layer and head, in the terminal
// (heatmaps and the party view of one token), in the browser (--serve) or as one file (--html).
import { noGrad, PartyTrainer, tokenizerFromJSON, type TokenizerJSON } from "../../index.js";
import { loadGpt } from "../../node.js";
import { labelHeads } from "../../explain/heads.js";
import type { Explainable } from "../../explain/session.js";
import { traceAttention } from "../../explain/trace.js";
import { numberFlag, parseFlags, UsageError, type Command } from "../args.js";
import { bold, colorMode, dim } from "../color.js";
import { formatHeatmap, formatPartyView } from "../inspect-text.js";
import { gptExplainable } from "../gpt-view.js";
import { partyExplainable } from "../party-view.js";
import { serveExplain, writeHtml } from "../visualize.js";

const NAME = "inspect";
const usage = `Usage: qkv inspect CHECKPOINT --prompt TEXT [options]
       qkv inspect --party [--steps N] [--seed N] [options]

Runs the model once with tracing on and prints, per layer and head, a heatmap of the attention
weights (rows: queries, columns: keys) and the party view of one token: its question (q), every
guest's badge (k) with its match score, the share of attention each guest gets, and the share of
what it hears that each guest's story (v) makes up.

CHECKPOINT is a directory written by qkv train (the newest step is used) or a Hugging Face GPT-2
directory (config.json + model.safetensors, e.g. the published 124M gpt2, with GPT-2's BPE).
--party instead trains the model of qkv party for --steps steps and inspects one fresh party.

Options:
  --prompt TEXT     the input text (required with CHECKPOINT)
  --layer N         only this layer (default: all)
  --head N          only this head (default: all)
  --token N         the query token of the party view (default: the last; negative counts from the end)
  --max-tokens N    heatmap window in tokens, ending at --token (default 40)
  --grad            also show, per head, |gradient × weight| of the predicted token's logit (which
                    attention edges the prediction depends on) in the terminal and on the page
  --party           inspect a freshly trained party model instead of a checkpoint
  --steps N         training steps for --party (default 300)
  --seed N          seed for --party (default 0)
  --serve           open the visualizer in the browser (prints a local URL; Ctrl-C stops)
  --html FILE       write the visualizer page as one self-contained file
  --host HOST       interface for --serve (default 127.0.0.1; anything else is warned about)
  --port N          port for --serve (default: a random free port)

Colour: truecolor when COLORTERM=truecolor, else 256 colours; plain text when NO_COLOR is set or
stdout is not a terminal.`;

/** A GPT checkpoint on a prompt, as something to explain. */
async function checkpointExplainable(dir: string, prompt: string): Promise<Explainable> {
  const loaded = await loadGpt(dir); // a qkv checkpoint or a Hugging Face GPT-2 directory, in eval mode
  const model = loaded.model;
  if (loaded.tokenizer === null) throw new Error(`${NAME}: ${dir} names no tokenizer, so the prompt cannot be encoded`);
  const tok = await tokenizerFromJSON(loaded.tokenizer as TokenizerJSON);
  let ids: number[];
  try {
    ids = tok.encode(prompt);
  } catch (err) {
    throw new UsageError(`${NAME}: ${(err as Error).message}`); // a prompt the model cannot read
  }
  if (ids.length === 0) throw new UsageError(`${NAME}: --prompt must not be empty`);
  if (ids.length > model.config.contextLength) throw new UsageError(`${NAME}: the prompt is ${ids.length} tokens; the model's context is ${model.config.contextLength}`);
  return gptExplainable(model, ids, (id) => tok.decode([id]), `${loaded.dir}: "${prompt.length > 40 ? prompt.slice(0, 39) + "…" : prompt}"`);
}

export const inspect: Command = {
  name: NAME,
  summary: "show a trained model's attention per layer and head (terminal heatmaps, party view, --serve, --html)",
  usage,
  async run(argv) {
    const { values: v, positionals } = parseFlags(NAME, argv, {
      prompt: { type: "string" }, layer: { type: "string" }, head: { type: "string" }, token: { type: "string" }, "max-tokens": { type: "string" },
      party: { type: "boolean" }, grad: { type: "boolean" }, steps: { type: "string" }, seed: { type: "string" },
      serve: { type: "boolean" }, html: { type: "string" }, host: { type: "string" }, port: { type: "string" },
    }, { positionals: 1 }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
    let subject: Explainable;
    if (v.party) {
      if (positionals.length) throw new UsageError(`${NAME}: give either CHECKPOINT or --party, not both`);
      const steps = v.steps === undefined ? 300 : numberFlag(NAME, "steps", v.steps, { min: 0, max: 100_000 });
      const seed = v.seed === undefined ? 0 : numberFlag(NAME, "seed", v.seed, { min: 0, max: 2 ** 32 - 1 });
      const trainer = new PartyTrainer({ seed, steps });
      while (!trainer.done) trainer.trainStep();
      subject = partyExplainable(trainer, seed);
    } else {
      if (positionals.length !== 1) throw new UsageError(`${NAME}: expected a CHECKPOINT directory (or --party)`);
      if (typeof v.prompt !== "string") throw new UsageError(`${NAME}: --prompt is required with a CHECKPOINT`);
      subject = await checkpointExplainable(positionals[0], v.prompt);
    }
    const mode = colorMode(process.stdout);
    const target = v.grad ? subject.gradTarget : undefined;
    if (v.grad && !target) throw new UsageError(`${NAME}: --grad needs a model with a prediction to differentiate`);
    const { layers, result } = target ? traceAttention(() => subject.run(), { gradOf: (out) => target.of(out) }) : noGrad(() => traceAttention(() => subject.run()));
    const queryTokens = subject.queryTokens ?? subject.tokens;
    const T = layers[0].T;
    let token = v.token === undefined ? subject.focus ?? T - 1 : numberFlag(NAME, "token", v.token, { min: -T, max: T - 1 });
    if (token < 0) token += T;
    const layerSel = v.layer === undefined ? null : numberFlag(NAME, "layer", v.layer, { min: 0, max: layers.length - 1 });
    const headSel = v.head === undefined ? null : numberFlag(NAME, "head", v.head, { min: 0, max: layers[0].H - 1 });
    const maxTokens = v["max-tokens"] === undefined ? 40 : numberFlag(NAME, "max-tokens", v["max-tokens"], { min: 1, max: 1000 });
    const labels = labelHeads(layers, subject.ids ?? (layers[0].T === layers[0].S ? subject.tokens : []));
    const out: string[] = [bold(mode, subject.title), ...(subject.notes?.(result) ?? []).map((n) => dim(mode, n))];
    if (target) out.push(dim(mode, `gradient maps: d(${target.label}) / d(attention weights), |gradient × weight| scaled to each head's max`));
    out.push("");
    for (const l of layers) {
      if (layerSel !== null && l.index !== layerSel) continue;
      for (let h = 0; h < l.H; h++) {
        if (headSel !== null && h !== headSel) continue;
        const label = labels.find((x) => x.layer === l.index && x.head === h);
        out.push(formatHeatmap(l, h, subject.tokens, queryTokens, mode, { maxTokens, focus: token, label }), "");
        if (target) out.push(formatHeatmap(l, h, subject.tokens, queryTokens, mode, { maxTokens, focus: token, gradient: true }), "");
        out.push(formatPartyView(l, h, token, subject.tokens, queryTokens, mode, { details: subject.details }), "");
      }
    }
    // a closed pipe (qkv inspect ... | head) ends the output quietly
    process.stdout.on("error", (err: NodeJS.ErrnoException) => { if (err.code !== "EPIPE") throw err; });
    process.stdout.write(out.join("\n") + "\n");
    if (typeof v.html === "string") {
      writeHtml(v.html, { ...subject, focus: token }, { grad: v.grad === true });
      process.stdout.write(`wrote ${v.html}\n`);
    }
    if (v.serve) {
      const port = v.port === undefined ? 0 : numberFlag(NAME, "port", v.port, { min: 0, max: 65535 });
      const srv = await serveExplain({ ...subject, focus: token }, { host: typeof v.host === "string" ? v.host : undefined, port, grad: v.grad === true });
      process.stderr.write(`qkv inspect: visualizer at ${srv.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      await srv.close();
    }
    return 0;
  },
};
