// The party in the visualizer: one party's question as the query, its guests as the keys, for
// `qkv party --serve` (live while training) and `qkv party --html FILE`.
import { crossEntropy, slice, sum, type Tensor, generateParties, partyTensors, PARTY_NAMES, PARTY_STORIES, Rng, type PartyTrainer } from "../index.js";
import type { Explainable } from "../explain/session.js";
import type { ServeOptions } from "./serve.js";
import { startLiveVisualizer, writeHtml, type LiveVisualizer } from "./visualize.js";

/** One party drawn from `seed` (a stream training never uses), ready to be explained. */
export function partyExplainable(trainer: PartyTrainer, seed = 0): Explainable & { asker: string; target: string } {
  const batch = generateParties(new Rng((seed ^ 0x5eed) >>> 0), 1, trainer.options.guests);
  const t = partyTensors(batch);
  const names = Array.from(batch.names, (i) => PARTY_NAMES[i]);
  const stories = Array.from(batch.stories, (i) => PARTY_STORIES[i]);
  const asker = names[batch.asker[0]], target = names[batch.target[0]];
  return {
    asker, target,
    title: `qkv party: ${asker} asks about ${target} (step ${trainer.step})`,
    tokens: names,
    details: stories,
    queryTokens: [`${asker} asks: what is ${target}'s story?`],
    focus: 0,
    run: () => {
      trainer.model.eval();
      const { logits } = trainer.model.forward(t.names, t.stories, t.askerName, t.targetName);
      return { logits, loss: crossEntropy(logits, t.answer) };
    },
    gradTarget: {
      label: "the logit of the story answered",
      of: (out) => {
        const l = out.logits as Tensor; // (1, V_story)
        let best = 0;
        for (let i = 1; i < l.size; i++) if (l.values[i] > l.values[best]) best = i;
        return sum(slice(l, 1, best, best + 1));
      },
    },
    notes: (out) => {
      const l = out.logits?.values ?? [];
      let best = 0;
      for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
      const answer = PARTY_STORIES[best];
      return [`guests: ${names.map((n, i) => `${n} (${stories[i]})`).join(", ")}`, `answer: "${answer}" ${answer === stories[batch.target[0]] ? "(right)" : `(wrong: ${target} ${stories[batch.target[0]]})`}`];
    },
  };
}

/** Starts the live page for a party trainer; the training loop calls its step() after every step. */
export function servePartyLive(trainer: PartyTrainer, opts: ServeOptions & { seed?: number; every?: number } = {}): Promise<LiveVisualizer> {
  return startLiveVisualizer(() => partyExplainable(trainer, opts.seed), opts);
}

/** Writes the trained party's page as one file. */
export function writePartyHtml(trainer: PartyTrainer, file: string, seed = 0): void {
  writeHtml(file, partyExplainable(trainer, seed));
}
