// Checkpoints: the four in-memory files, and directories on disk: round trip, rotation, the `latest`
// pointer and the fallback when it is missing or broken, leftovers of crashed saves, atomic writes.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { captureCheckpoint, checkpointFromFiles, checkpointToFiles, CheckpointError, restoreCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { SafetensorsError } from "../../src/io/safetensors.js";
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from "../../src/node.js";
import { Linear } from "../../src/nn/linear.js";
import { AdamW } from "../../src/optim/adam.js";
import { randn, tensor } from "../../src/tensor/create.js";
import { Rng } from "../../src/util/random.js";

const roots: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "qkv-ckpt-"));
  roots.push(dir);
  return dir;
}
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function sample(step: number): Checkpoint {
  const rng = new Rng(step);
  rng.normal();
  return {
    config: { vocabSize: 65, numLayers: 2, nested: { tie: true, names: ["a", "b"] } },
    model: new Map([["wte.weight", tensor([step, 1.5, -2, 0.25], [2, 2])], ["ln.bias", tensor([0.5], [1])]]),
    optimizer: new Map([["0.m", tensor([0.1, 0.2, 0.3, 0.4], [2, 2])], ["0.step", tensor([step], [], { dtype: "int32" })]]),
    state: { step, rng: rng.getState(), dataPosition: 123, schedule: { warmup: 10 }, tokenizer: { kind: "char", vocab: "ab\n" } },
  };
}

function assertSame(got: Checkpoint, want: Checkpoint): void {
  assert.deepEqual(got.config, want.config);
  assert.deepEqual(got.state, want.state);
  for (const key of ["model", "optimizer"] as const) {
    assert.deepEqual([...got[key].keys()], [...want[key].keys()], key);
    for (const [k, t] of want[key]) {
      assert.equal(got[key].get(k)!.dtype, t.dtype, k);
      assert.deepEqual(got[key].get(k)!.shape, t.shape, k);
      assert.deepEqual(Array.from(got[key].get(k)!.values), Array.from(t.values), k);
    }
  }
}

test("checkpoint files: toFiles then fromFiles gives back config, tensors, state and the RNG state", () => {
  const ck = sample(42);
  const files = checkpointToFiles(ck);
  assert.deepEqual([...files.keys()], ["config.json", "model.safetensors", "optimizer.safetensors", "state.json"]);
  const back = checkpointFromFiles(files);
  assertSame(back, ck);
  const rng = new Rng(0);
  rng.setState(back.state.rng as ReturnType<Rng["getState"]>);
  const orig = new Rng(42);
  orig.normal();
  assert.equal(rng.normal(), orig.normal(), "restored RNG continues the stream, spare normal included");
  assert.equal(rng.next(), orig.next());
});

test("checkpoint files: what JSON would silently lose is refused by name", () => {
  const bad = (state: Record<string, unknown>): Checkpoint => ({ ...sample(1), state: { step: 1, ...state } });
  assert.throws(() => checkpointToFiles(bad({ loss: NaN })), /checkpointToFiles: state.loss is NaN, which JSON cannot hold/);
  assert.throws(() => checkpointToFiles(bad({ seen: new Map() })), /state.seen is a Map; only plain JSON data/);
  assert.throws(() => checkpointToFiles(bad({ ids: new Int32Array(2) })), /state.ids is a Int32Array/);
  assert.throws(() => checkpointToFiles({ ...sample(1), model: new Map([["__metadata__", tensor([1], [1])]]) }), (e) => e instanceof CheckpointError && e.cause instanceof SafetensorsError);
  assert.equal(JSON.parse(new TextDecoder().decode(checkpointToFiles(bad({ skip: undefined })).get("state.json"))).skip, undefined);
});

test("checkpoint files: a missing file or a broken one is reported with the file and its source", () => {
  const files = checkpointToFiles(sample(3));
  const without = new Map(files);
  without.delete("state.json");
  assert.throws(() => checkpointFromFiles(without, "memory"), /checkpointFromFiles: memory has no state.json/);
  const broken = new Map(files).set("model.safetensors", files.get("model.safetensors")!.subarray(0, 40));
  assert.throws(() => checkpointFromFiles(broken, "memory"), /model.safetensors in memory: parseSafetensors: header length \d+ runs past the end/);
  const notObject = new Map(files).set("config.json", new TextEncoder().encode("[1]"));
  assert.throws(() => checkpointFromFiles(notObject, "memory"), /config.json in memory must hold a JSON object, got an array/);
});

test("saveCheckpoint: writes step-<8 digits> with four files, points latest at it, and loads back", async () => {
  const root = tempRoot();
  const dir = await saveCheckpoint(root, sample(7));
  assert.equal(dir, join(root, "step-00000007"));
  assert.deepEqual(readdirSync(dir).sort(), ["config.json", "model.safetensors", "optimizer.safetensors", "state.json"]);
  assert.equal(readFileSync(join(root, "latest"), "utf8"), "step-00000007\n");
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000007"], "no temporary files left behind");
  const fromRoot = await loadCheckpoint(root);
  assertSame(fromRoot, sample(7));
  assert.equal(fromRoot.dir, dir);
  assert.deepEqual(fromRoot.skipped, []);
  assertSame(await loadCheckpoint(dir), sample(7));
});

test("saveCheckpoint: keeps the newest `keep` steps, never deletes the one latest names, and replaces a re-saved step", async () => {
  const root = tempRoot();
  for (let s = 1; s <= 6; s++) await saveCheckpoint(root, sample(s * 10), { keep: 3 });
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000040", "step-00000050", "step-00000060"]);
  // resuming from an older step: it becomes latest and survives although it is not among the newest 3
  await saveCheckpoint(root, sample(15), { keep: 3 });
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000015", "step-00000040", "step-00000050", "step-00000060"]);
  assertSame(await loadCheckpoint(root), sample(15));
  await saveCheckpoint(root, sample(16), { keep: 1 });
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000016", "step-00000060"], "keep=1: the newest step and latest's");
  const again = { ...sample(16), config: { changed: true } };
  await saveCheckpoint(root, again, { keep: 1 });
  assert.deepEqual((await loadCheckpoint(root)).config, { changed: true });
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000016", "step-00000060"]);
  await assert.rejects(saveCheckpoint(root, sample(1), { keep: 0 }), /saveCheckpoint: keep must be an integer >= 1, got 0/);
  await assert.rejects(saveCheckpoint(root, { ...sample(1), state: { step: -1 } }), /saveCheckpoint: state.step must be a non-negative integer, got -1/);
});

test("loadCheckpoint: falls back to the newest loadable step when latest is missing, garbage, a path, or names a broken dir", async () => {
  const root = tempRoot();
  for (const s of [1, 2, 3]) await saveCheckpoint(root, sample(s));
  writeFileSync(join(root, "latest"), "nonsense");
  let got = await loadCheckpoint(root);
  assert.equal(got.state.step, 3);
  assert.match(got.skipped[0], /latest holds "nonsense", not a step directory name/);
  writeFileSync(join(root, "latest"), "../../etc");
  assert.equal((await loadCheckpoint(root)).state.step, 3, "a path in latest is never followed");
  rmSync(join(root, "latest"));
  assert.equal((await loadCheckpoint(root)).state.step, 3);
  // latest names step 3, whose model file was cut short: step 2 loads instead, and the reason is kept
  writeFileSync(join(root, "latest"), "step-00000003\n");
  const model = join(root, "step-00000003", "model.safetensors");
  truncateSync(model, 100);
  got = await loadCheckpoint(root);
  assert.equal(got.state.step, 2);
  assert.match(got.skipped.join("\n"), /model.safetensors in .*step-00000003: parseSafetensors: /);
  rmSync(join(root, "step-00000002", "state.json"));
  assert.equal((await loadCheckpoint(root)).state.step, 1, "a step dir missing a file is skipped");
  // a directory that looks like a step but is a leftover temp dir is never a candidate
  mkdirSync(join(root, ".tmp-step-00000009-1-1"));
  assert.equal((await loadCheckpoint(root)).state.step, 1);
  await assert.rejects(loadCheckpoint(join(root, "missing")), /loadCheckpoint: .*missing does not exist/);
  const empty = tempRoot();
  await assert.rejects(loadCheckpoint(empty), /loadCheckpoint: no loadable checkpoint in .* \(no step directories\)/);
});

test("saveCheckpoint: leftovers of crashed saves (temp dirs, temp latest files, half-replaced steps) are cleared", async () => {
  const root = tempRoot();
  await saveCheckpoint(root, sample(1));
  mkdirSync(join(root, ".tmp-step-00000002-999-1"));
  writeFileSync(join(root, ".tmp-step-00000002-999-1", "config.json"), "{");
  writeFileSync(join(root, ".latest.tmp-999-3"), "step-00000002");
  mkdirSync(join(root, ".trash-step-00000000-999-4"));
  await saveCheckpoint(root, sample(2));
  assert.deepEqual(readdirSync(root).sort(), ["latest", "step-00000001", "step-00000002"]);
  // the moment between moving an old copy aside and renaming the new one in: the .old copy still loads
  const { renameSync } = await import("node:fs");
  renameSync(join(root, "step-00000002"), join(root, "step-00000002.old-999-5"));
  const got = await loadCheckpoint(root);
  assert.equal(got.state.step, 2);
  assert.match(got.dir, /step-00000002\.old-999-5$/);
});

test("writeFileAtomic: replaces the file whole and leaves no temporary file", async () => {
  const root = tempRoot();
  const p = join(root, "f.json");
  await writeFileAtomic(p, "one");
  await writeFileAtomic(p, new TextEncoder().encode("two"));
  assert.equal(readFileSync(p, "utf8"), "two");
  assert.deepEqual(readdirSync(root), ["f.json"]);
  await assert.rejects(writeFileAtomic(join(root, "no-such-dir", "f"), "x"), /ENOENT/);
  assert.deepEqual(readdirSync(root), ["f.json"]);
});

test("captureCheckpoint -> saveCheckpoint -> loadCheckpoint -> restoreCheckpoint resumes training bit-identically", async () => {
  const data = randn([4, 3], new Rng(11));
  const make = () => {
    const model = new Linear(3, 2, { rng: new Rng(5) });
    return { model, optimizer: new AdamW(model.parameters(), { lr: 0.05 }) };
  };
  const train = (m: ReturnType<typeof make>, steps: number) => {
    for (let i = 0; i < steps; i++) {
      m.optimizer.zeroGrad();
      m.model.forward(data).mul(m.model.forward(data)).sum().backward();
      m.optimizer.step();
    }
  };
  const ref = make();
  train(ref, 3);
  ref.optimizer.lr = 0.04; // a schedule change mid-run, which the checkpoint must carry
  train(ref, 3);
  const a = make();
  train(a, 3);
  a.optimizer.lr = 0.04;
  const root = tempRoot();
  await saveCheckpoint(root, captureCheckpoint({ ...a, config: { inFeatures: 3 }, state: { step: 3 } }));
  const b = make();
  const ck = await loadCheckpoint(root);
  restoreCheckpoint(ck, b);
  assert.equal(b.optimizer.lr, 0.04);
  assert.deepEqual(ck.state.optimizer, a.optimizer.getState());
  train(b, 3);
  for (const [name, p] of ref.model.namedParameters()) {
    const got = new Map(b.model.namedParameters()).get(name)!;
    assert.deepEqual(Array.from(got.values), Array.from(p.values), name);
  }
  assert.throws(() => restoreCheckpoint(captureCheckpoint({ model: a.model, config: {}, state: { step: 1 } }), b), /restoreCheckpoint: the checkpoint has no state.optimizer/);
});
