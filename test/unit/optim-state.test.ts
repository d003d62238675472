// Optimizer resume: stateDict() through safetensors bytes and getState() through JSON, restored into
// fresh optimizers mid-run, continue bit-identically to an uninterrupted run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import { Adam, AdamW } from "../../src/optim/adam.js";
import type { Optimizer, ParamGroup } from "../../src/optim/optimizer.js";
import { SGD } from "../../src/optim/sgd.js";
import { randn } from "../../src/tensor/create.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { Rng } from "../../src/util/random.js";

type Make = (groups: ParamGroup[]) => Optimizer;

const makers: [string, Make][] = [
  ["SGD momentum + nesterov + weight decay", (g) => new SGD(g, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ["SGD momentum + dampening", (g) => new SGD(g, { lr: 0.05, momentum: 0.8, dampening: 0.1 })],
  ["Adam", (g) => new Adam(g, { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.02 })],
  ["AdamW", (g) => new AdamW(g, { lr: 0.01, weightDecay: 0.1 })],
];

/** Three parameters in two groups (the second with its own lr); `w2` gets no gradient before step 4. */
function setup(): { params: Tensor[]; groups: ParamGroup[]; c: Tensor[]; d: Tensor[] } {
  const rng = new Rng(7);
  const shapes = [[3, 4], [5], [2, 2]];
  const params = shapes.map((s) => randn(s, rng, { requiresGrad: true }));
  const c = shapes.map((s) => randn(s, rng).abs());
  const d = shapes.map((s) => randn(s, rng));
  return { params, groups: [{ params: [params[0], params[1]] }, { params: [params[2]], lr: 0.003 }], c, d };
}

/** One step of loss = sum_i sum(c_i w_i^2 + d_i w_i); w2 joins from step 4 on. */
function step(opt: Optimizer, params: Tensor[], c: Tensor[], d: Tensor[], t: number): void {
  opt.zeroGrad();
  let loss = c[0].mul(params[0]).mul(params[0]).add(d[0].mul(params[0])).sum();
  loss = loss.add(c[1].mul(params[1]).mul(params[1]).add(d[1].mul(params[1])).sum());
  if (t >= 4) loss = loss.add(c[2].mul(params[2]).mul(params[2]).add(d[2].mul(params[2])).sum());
  loss.backward();
  opt.step();
}

const bits = (t: Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.values).buffer));

for (const [name, make] of makers) {
  for (const saveAt of [2, 5]) {
    test(`optimizer state: ${name} saved after step ${saveAt} and restored continues bit-identically`, () => {
      const total = 9;
      const ref = setup();
      const refOpt = make(ref.groups);
      for (let t = 1; t <= total; t++) step(refOpt, ref.params, ref.c, ref.d, t);

      const run = setup();
      const opt = make(run.groups);
      for (let t = 1; t <= saveAt; t++) step(opt, run.params, run.c, run.d, t);
      opt.groups[1].lr = 0.004; // a scheduled change that the JSON state must carry
      const tensorBytes = serializeSafetensors(opt.stateDict());
      const stateText = JSON.stringify(opt.getState());
      const paramBytes = serializeSafetensors(run.params.map((p, i) => [String(i), p] as [string, Tensor]));

      // a fresh process, in effect: new parameters and a new optimizer from the saved bytes
      const fresh = setup();
      const saved = parseSafetensors(paramBytes).tensors;
      fresh.params.forEach((p, i) => p.values.set(saved.get(String(i))!.values));
      const opt2 = make(fresh.groups);
      opt2.loadStateDict(parseSafetensors(tensorBytes).tensors);
      opt2.setState(JSON.parse(stateText));
      assert.equal(opt2.groups[1].lr, 0.004);
      opt2.groups[1].lr = 0.003; // undo for the comparison with the reference, which never changed it
      opt.groups[1].lr = 0.003;
      for (let t = saveAt + 1; t <= total; t++) step(opt2, fresh.params, fresh.c, fresh.d, t);
      fresh.params.forEach((p, i) => assert.deepEqual(bits(p), bits(ref.params[i]), `parameter ${i}`));
    });
  }
}

test("optimizer state: stateDict names buffers by parameter index and skips parameters without state", () => {
  const { params, groups, c, d } = setup();
  const adam = new AdamW(groups);
  step(adam, params, c, d, 1);
  const sd = adam.stateDict();
  assert.deepEqual([...sd.keys()], ["0.m", "0.v", "0.step", "1.m", "1.v", "1.step"]);
  assert.equal(sd.get("1.step")!.item(), 1);
  assert.deepEqual(adam.getState(), { kind: "AdamW", groups: [{ lr: 1e-3, weightDecay: 0.01, size: 2 }, { lr: 0.003, weightDecay: 0.01, size: 1 }], hyper: { betas: [0.9, 0.999], eps: 1e-8 } });
  const sgd = new SGD(groups, { lr: 0.1, momentum: 0.9 });
  step(sgd, params, c, d, 1);
  assert.deepEqual([...sgd.stateDict().keys()], ["0.momentum", "1.momentum"]);
  assert.equal(sgd.stateDict().get("0.momentum")!.dtype, "float32", "momentum keeps the parameter dtype, as torch");
  assert.equal(new SGD(groups, { lr: 0.1 }).stateDict().size, 0, "plain SGD keeps no buffers");
});

test("optimizer state: loadStateDict and setState refuse mismatched state and leave the optimizer unchanged", () => {
  const { params, groups, c, d } = setup();
  const adam = new Adam(groups);
  step(adam, params, c, d, 1);
  const good = adam.stateDict();
  const withEntry = (k: string, t: Tensor): Map<string, Tensor> => new Map([...good, [k, t]]);
  assert.throws(() => adam.loadStateDict(withEntry("0.m", Tensor.fromArray(new Float32Array(3), [3], "float32"))), /Adam.loadStateDict: 0.m must have the parameter's shape \(3, 4\), got \(3,\)/);
  assert.throws(() => adam.loadStateDict(withEntry("0.momentum", good.get("0.m")!)), /unexpected entry "0.momentum"/);
  assert.throws(() => adam.loadStateDict(withEntry("7.m", good.get("0.m")!)), /names parameter 7, but there are 3/);
  assert.throws(() => adam.loadStateDict(new Map([["0.m", good.get("0.m")!]])), /needs 0.m, 0.v and 0.step together/);
  assert.throws(() => adam.loadStateDict(withEntry("0.step", Tensor.fromArray(Int32Array.of(-1), [], "int32"))), /0.step must hold one non-negative integer/);
  assert.deepEqual([...adam.stateDict().keys()], [...good.keys()], "a refused load changes nothing");
  const sgdState = new SGD(groups, { lr: 0.1 }).getState();
  assert.throws(() => adam.setState(sgdState), /Adam.setState: state was written by SGD, not Adam/);
  assert.throws(() => adam.setState({ ...adam.getState(), groups: [{ lr: 1, weightDecay: 0, size: 3 }] }), /groups of sizes \[3\], this optimizer \[2, 1\]/);
  // loading copies: stepping afterwards never writes into the caller's tensors
  const m0 = Float32Array.from(good.get("0.m")!.values);
  const copy = new Map([...good].map(([k, t]) => [k, t.clone()]));
  adam.loadStateDict(copy);
  step(adam, params, c, d, 2);
  assert.deepEqual(Array.from(copy.get("0.m")!.values), Array.from(m0));
});
