// SGD, SGD with momentum, Adam and AdamW: five steps on sum(c w^2) + sum(d w) against PyTorch.
import { before, test } from "node:test";
import { Adam, AdamW } from "../../src/optim/adam.js";
import type { Optimizer } from "../../src/optim/optimizer.js";
import { SGD } from "../../src/optim/sgd.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { assertCloseAsync } from "../helpers/assert-close.js";
import { useEnvBackend } from "../helpers/backend.js";
import { fromJson, loadFixture, type Json } from "../helpers/fixtures.js";
import { TOL } from "../helpers/tolerance.js";

interface Case {
  name: string;
  hyper: { lr: number; momentum?: number; betas?: [number, number]; eps?: number; weight_decay?: number };
  w0: Json; c: Json; d: Json;
  after_each_step: number[][];
}

before(useEnvBackend);
const { cases } = loadFixture<{ cases: Case[] }>("optim.json");

function make(name: string, w: Tensor, h: Case["hyper"]): Optimizer {
  switch (name) {
    case "sgd":
    case "sgd_momentum": return new SGD([w], { lr: h.lr, momentum: h.momentum ?? 0 });
    case "adam": return new Adam([w], { lr: h.lr, betas: h.betas, eps: h.eps });
    case "adamw": return new AdamW([w], { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weight_decay });
    default: throw new Error(`no optimizer for fixture case ${name}`);
  }
}

for (const c of cases) {
  test(`optimizer fixture ${c.name}: five steps match PyTorch`, async () => {
    const w = fromJson(c.w0, { requiresGrad: true });
    const cc = fromJson(c.c), d = fromJson(c.d);
    const opt = make(c.name, w, c.hyper);
    for (const [i, expected] of c.after_each_step.entries()) {
      opt.zeroGrad();
      cc.mul(w).mul(w).sum().add(d.mul(w).sum()).backward();
      opt.step();
      await assertCloseAsync(w, expected, TOL.fixture, `w after step ${i + 1}`);
    }
  });
}
