// Parties for `qkv party`: N guests, each with a distinct name and a distinct story; one guest (the
// asker) asks for another guest's (the target's) story. Deterministic from an Rng; browser-safe.
// Answering is associative recall: find the guest whose name badge matches, read off their story.
import { tensor } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import type { Rng } from "../util/random.js";

export const PARTY_NAMES: readonly string[] = [
  "Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena",
  "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf",
];

export const PARTY_STORIES: readonly string[] = [
  "sailed to Lisbon", "met a bear", "won a chess prize", "lost a shoe in Rome", "baked 300 pies",
  "climbed Kilimanjaro", "adopted a goose", "learned the tuba", "found an old map", "sang at the opera",
  "ran a marathon", "built a canoe", "fixed a town clock", "wrote a cookbook", "saw the northern lights",
  "missed the last train", "grew a giant pumpkin", "taught a parrot Latin", "painted a lighthouse",
  "swam across a lake", "danced in Havana", "dug up a fossil", "rode a camel", "got lost in Tokyo",
];

/** Fewest and most guests a party can have (names and stories must stay distinct). */
export const MIN_GUESTS = 2;
export const MAX_GUESTS = Math.min(PARTY_NAMES.length, PARTY_STORIES.length);

/** B parties of N guests each, as flat row-major id arrays. */
export interface PartyBatch {
  /** B: parties in the batch. */
  size: number;
  /** N: guests per party. */
  guests: number;
  /** (B, N) index into PARTY_NAMES; distinct within a party. */
  names: Int32Array;
  /** (B, N) index into PARTY_STORIES; distinct within a party. */
  stories: Int32Array;
  /** (B) guest index (0..N-1) of the guest who asks. */
  asker: Int32Array;
  /** (B) guest index of the guest asked about; never the asker. */
  target: Int32Array;
}

/** The batch as int32 tensors: the model's inputs and the answer to learn. */
export interface PartyTensors {
  names: Tensor; // (B, N)
  stories: Tensor; // (B, N)
  askerName: Tensor; // (B)
  targetName: Tensor; // (B)
  answer: Tensor; // (B) story id of the target
}

/** Writes k distinct ids from [0, pool) into out[offset..offset+k) by a partial Fisher-Yates shuffle. */
function drawDistinct(rng: Rng, scratch: Int32Array, pool: number, k: number, out: Int32Array, offset: number): void {
  for (let i = 0; i < pool; i++) scratch[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool - i);
    const t = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = t;
    out[offset + i] = scratch[i];
  }
}

/** Draws `size` parties of `guests` guests from rng (same rng state, same parties). */
export function generateParties(rng: Rng, size: number, guests: number): PartyBatch {
  const fn = "generateParties";
  check(Number.isInteger(size) && size > 0, fn, `expected a positive integer batch size, got ${size}`);
  check(Number.isInteger(guests) && guests >= MIN_GUESTS && guests <= MAX_GUESTS, fn, `expected an integer number of guests in [${MIN_GUESTS}, ${MAX_GUESTS}], got ${guests}`);
  const names = new Int32Array(size * guests);
  const stories = new Int32Array(size * guests);
  const asker = new Int32Array(size);
  const target = new Int32Array(size);
  const scratch = new Int32Array(Math.max(PARTY_NAMES.length, PARTY_STORIES.length));
  for (let b = 0; b < size; b++) {
    drawDistinct(rng, scratch, PARTY_NAMES.length, guests, names, b * guests);
    drawDistinct(rng, scratch, PARTY_STORIES.length, guests, stories, b * guests);
    asker[b] = rng.int(guests);
    target[b] = (asker[b] + 1 + rng.int(guests - 1)) % guests; // uniform over the other guests
  }
  return { size, guests, names, stories, asker, target };
}

/** Int32 tensors for the model: guest names and stories, the asker's and the target's names, the answer. */
export function partyTensors(batch: PartyBatch): PartyTensors {
  const { size: B, guests: N } = batch;
  const askerName = new Int32Array(B), targetName = new Int32Array(B), answer = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    askerName[b] = batch.names[b * N + batch.asker[b]];
    targetName[b] = batch.names[b * N + batch.target[b]];
    answer[b] = batch.stories[b * N + batch.target[b]];
  }
  return {
    names: tensor(batch.names, [B, N]),
    stories: tensor(batch.stories, [B, N]),
    askerName: tensor(askerName, [B]),
    targetName: tensor(targetName, [B]),
    answer: tensor(answer, [B]),
  };
}
