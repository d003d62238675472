// qkv party: train attention to answer "what is <guest>'s story?" at generated parties, then
// evaluate on fresh parties and draw the party map (whom the asker listened to). Terminal output
// only; the training loop is PartyTrainer (src/train/party.ts), shared with the web page.
import { MAX_GUESTS, MIN_GUESTS, PARTY_DEFAULT_LR, PARTY_DEFAULTS, PARTY_NAMES, PARTY_STORIES, PartyTrainer, type PartyEvaluation, type PartyExample, type PartyOptimizer } from "../../index.js";
import { getBackend, gpuAdapterName } from "../../backend/select.js";
import { choiceFlag, numberFlag, parseFlags, UsageError, type Command } from "../args.js";
import { onGpu, useBackend } from "../backend-flag.js";
import { bold, colorBar, colorMode, dim, fg, GREEN, RED, type ColorMode } from "../color.js";
import { formatDuration, ProgressBar } from "../progress.js";
import { servePartyLive, writePartyHtml } from "../party-view.js";
import type { LiveVisualizer } from "../visualize.js";

const NAME = "party";
const OPTIMIZERS = ["adam", "sgd"] as const;
const EVAL_PARTIES = 1000;

const usage = `Usage: qkv party [options]

Generates parties from a seed: each guest has a name and a story; after the introductions one guest
asks for another guest's story. A one-layer attention model (learned W^Q, W^K, W^V, W^O and a
readout) learns to answer by gradient descent, is evaluated on ${EVAL_PARTIES.toLocaleString("en")} fresh parties, and
shows for a few questions whom the asker listened to.

Options:
  --seed N          seed for the initial weights and the parties (default ${PARTY_DEFAULTS.seed})
  --steps N         training steps (default ${PARTY_DEFAULTS.steps})
  --guests N        guests per party, ${MIN_GUESTS}..${MAX_GUESTS} (default ${PARTY_DEFAULTS.guests})
  --optimizer NAME  adam or sgd (SGD with momentum 0.9) (default ${PARTY_DEFAULTS.optimizer})
  --lr X            learning rate (default ${PARTY_DEFAULT_LR.adam} for adam, ${PARTY_DEFAULT_LR.sgd} for sgd)
  --batch N         parties per training step (default ${PARTY_DEFAULTS.batchSize})
  --show N          party maps to print, 0..20 (default 3)
  --backend NAME    kernel backend: js, wasm or webgpu (default: wasm where supported, or QKV_BACKEND)
  --json            print one JSON object with the results instead of the report
  --serve           open the attention visualizer while training (prints a local URL; Ctrl-C stops)
  --html FILE       write the trained party's visualizer page as one self-contained file
  --host HOST       interface for --serve (default 127.0.0.1; anything else is warned about)
  --port N          port for --serve (default: a random free port)
  -h, --help        show this help

Colour: truecolor when COLORTERM=truecolor, else 256 colours; none when NO_COLOR is set or
stdout is not a terminal.`;

interface PartyArgs {
  seed: number;
  steps: number;
  guests: number;
  optimizer: PartyOptimizer;
  lr: number;
  batch: number;
  show: number;
  json: boolean;
  serve: boolean;
  html: string | null;
  backend: string | undefined;
  host: string;
  port: number;
}

function parse(argv: string[]): PartyArgs {
  // FlagSpec is a plain record, so parseArgs cannot type the values for us
  const v = parseFlags(NAME, argv, {
    seed: { type: "string" }, steps: { type: "string" }, guests: { type: "string" }, optimizer: { type: "string" },
    lr: { type: "string" }, batch: { type: "string" }, show: { type: "string" }, json: { type: "boolean" },
    serve: { type: "boolean" }, html: { type: "string" }, host: { type: "string" }, port: { type: "string" }, backend: { type: "string" },
  }).values as Record<string, string | boolean | undefined>;
  const optimizer = v.optimizer === undefined ? PARTY_DEFAULTS.optimizer : choiceFlag(NAME, "optimizer", v.optimizer, OPTIMIZERS);
  const lr = v.lr === undefined ? PARTY_DEFAULT_LR[optimizer] : numberFlag(NAME, "lr", v.lr, { integer: false, min: 0, max: 100 });
  if (!(lr > 0)) throw new UsageError(`${NAME}: --lr expects a number > 0, got ${JSON.stringify(v.lr)}`);
  return {
    seed: v.seed === undefined ? PARTY_DEFAULTS.seed : numberFlag(NAME, "seed", v.seed, { min: 0, max: 2 ** 32 - 1 }),
    steps: v.steps === undefined ? PARTY_DEFAULTS.steps : numberFlag(NAME, "steps", v.steps, { min: 1, max: 1_000_000 }),
    guests: v.guests === undefined ? PARTY_DEFAULTS.guests : numberFlag(NAME, "guests", v.guests, { min: MIN_GUESTS, max: MAX_GUESTS }),
    optimizer,
    lr,
    batch: v.batch === undefined ? PARTY_DEFAULTS.batchSize : numberFlag(NAME, "batch", v.batch, { min: 1, max: 4096 }),
    show: v.show === undefined ? 3 : numberFlag(NAME, "show", v.show, { min: 0, max: 20 }),
    json: v.json === true,
    serve: v.serve === true,
    html: typeof v.html === "string" ? v.html : null,
    backend: typeof v.backend === "string" ? v.backend : undefined,
    host: typeof v.host === "string" ? v.host : "127.0.0.1",
    port: v.port === undefined ? 0 : numberFlag(NAME, "port", v.port, { min: 0, max: 65535 }),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The party map of one question: every guest with a bar for the asker's attention on them. */
export function formatPartyMap(ex: PartyExample, index: number, mode: ColorMode): string {
  const names = ex.guests.map((g) => g.name);
  // pool-wide widths, so every map lines up with the others
  const nameWidth = Math.max(...PARTY_NAMES.map((n) => n.length));
  const storyWidth = Math.max(...PARTY_STORIES.map((s) => s.length));
  const asker = names[ex.asker], target = names[ex.target];
  const lines = [`${bold(mode, `Party ${index}`)}  ${bold(mode, asker)} asks: what is ${bold(mode, target)}'s story?`];
  ex.guests.forEach((g, n) => {
    const mark = n === ex.listenedTo ? "▶" : " ";
    const role = n === ex.asker ? dim(mode, "  (asking)") : n === ex.target ? dim(mode, "  (asked about)") : "";
    const bar = colorBar(mode, ex.attention[n], 24); // full width = all of the attention
    lines.push(`  ${mark} ${g.name.padEnd(nameWidth)}  ${dim(mode, g.story.padEnd(storyWidth))}  ${bar} ${pct(ex.attention[n]).padStart(6)}${role}`);
  });
  const right = ex.listenedTo === ex.target;
  const heard = `listened most to ${names[ex.listenedTo]}${right ? ", the right guest" : `, not ${target}`}`;
  const verdict = ex.correct ? fg(mode, GREEN, "✓") : fg(mode, RED, `✗ (${target} ${ex.guests[ex.target].story})`);
  lines.push(`    answer: ${asker} hears "${ex.answer}" ${verdict}; ${heard}`);
  return lines.join("\n");
}

function summary(ev: PartyEvaluation, seconds: number, mode: ColorMode): string {
  const correct = Math.round(ev.accuracy * ev.parties);
  return [
    `${bold(mode, "accuracy")} ${pct(ev.accuracy)} (${correct}/${ev.parties} fresh parties answered right)`,
    `${bold(mode, "attention hit rate")} ${pct(ev.attentionHitRate)} (of the right answers, strongest attention on the right guest)`,
    `${dim(mode, `eval loss ${ev.loss.toFixed(4)}, ${formatDuration(seconds)} in all`)}`,
  ].join("\n");
}

export const party: Command = {
  name: NAME,
  summary: "train attention to answer who-told-what questions at a party, and show who listened to whom",
  usage,
  async run(argv) {
    const args = parse(argv);
    await useBackend(NAME, args.backend);
    const gpu = onGpu(); // webgpu: steps and the evaluation read their results asynchronously
    if (gpu && (args.serve || args.html !== null)) throw new UsageError(`${NAME}: --serve and --html need a host backend (js or wasm): the visualizer reads the model synchronously`);
    const mode = colorMode(process.stdout);
    const out = (line = "") => { if (!args.json) process.stdout.write(line + "\n"); };
    const t0 = performance.now(), cpu0 = process.cpuUsage();
    const trainer = new PartyTrainer({ seed: args.seed, steps: args.steps, guests: args.guests, optimizer: args.optimizer, lr: args.lr, batchSize: args.batch });
    out(`${bold(mode, "qkv party")}: ${args.guests} guests, ${args.optimizer} (lr ${args.lr}), ${args.steps} steps of ${args.batch} parties, seed ${args.seed}, ${getBackend()}${gpu ? ` (${gpuAdapterName()})` : ""} backend`);
    const bar = new ProgressBar({ total: args.steps, label: "train", mode: args.json ? "silent" : undefined });
    let last = { loss: NaN, smoothLoss: NaN, smoothAccuracy: NaN };
    let viz: LiveVisualizer | null = null;
    if (args.serve) {
      viz = await servePartyLive(trainer, { host: args.host, port: args.port, seed: args.seed });
      process.stderr.write(`qkv party: visualizer at ${viz.url}\n`);
    }
    const figures = () => ({ loss: last.smoothLoss.toPrecision(3), acc: pct(last.smoothAccuracy) });
    while (!trainer.done) {
      last = gpu ? await trainer.trainStepAsync() : trainer.trainStep();
      bar.update(trainer.step, figures());
      await viz?.step(trainer.step, last.loss);
    }
    bar.finish(trainer.step, figures());
    const trainSeconds = (performance.now() - t0) / 1000;
    const ev = gpu ? await trainer.evaluateAsync(EVAL_PARTIES, { examples: args.show }) : trainer.evaluate(EVAL_PARTIES, { examples: args.show });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    out();
    out(summary(ev, seconds, mode));
    for (const [i, ex] of ev.examples.entries()) {
      out();
      out(formatPartyMap(ex, i + 1, mode));
    }
    // a miss teaches more than another hit: show the first one unless it is already on screen
    const miss = ev.mistakes.find((m) => !ev.examples.includes(m));
    if (args.show > 0 && miss !== undefined) {
      out();
      out(dim(mode, miss.correct ? "A right answer whose strongest attention was on another guest:" : "A question it got wrong:"));
      out(formatPartyMap(miss, args.show + 1, mode));
    }
    if (args.json) {
      const result = {
        command: NAME, backend: getBackend(), seed: args.seed, guests: args.guests, optimizer: args.optimizer, lr: args.lr, steps: args.steps, batchSize: args.batch,
        parties: ev.parties, accuracy: ev.accuracy, attentionHitRate: ev.attentionHitRate, finalLoss: last.loss, evalLoss: ev.loss,
        seconds: round(seconds), trainSeconds: round(trainSeconds), cpuSeconds: round((cpu.user + cpu.system) / 1e6), examples: ev.examples, mistakes: ev.mistakes,
      };
      process.stdout.write(JSON.stringify(result) + "\n");
    }
    if (args.html !== null) {
      writePartyHtml(trainer, args.html, args.seed);
      out(`wrote ${args.html}`);
    }
    if (viz) {
      process.stderr.write(`qkv party: training done; still serving ${viz.url} (Ctrl-C to stop)\n`);
      await viz.serveForever();
    }
    return 0;
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
