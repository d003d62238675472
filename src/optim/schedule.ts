// Learning-rate schedules as pure functions of the step (nanoGPT's get_lr), and weight-decay groups.
import type { Tensor } from "../tensor/tensor.js";
import { check } from "../util/assert.js";
import type { ParamGroup } from "./optimizer.js";

export interface CosineSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  maxLr: number;
  /** Floor after decay; nanoGPT uses maxLr / 10. */
  minLr: number;
  warmupSteps: number;
  /** Step at which decay ends; later steps stay at minLr. */
  decaySteps: number;
}

/**
 * nanoGPT's get_lr(it): linear warmup maxLr * (it + 1) / (warmup + 1), then cosine decay
 * minLr + (1 + cos(pi * ratio)) / 2 * (maxLr - minLr) until decaySteps, then minLr.
 */
export function cosineWithWarmup(step: number, s: CosineSchedule): number {
  check(Number.isInteger(step) && step >= 0, "cosineWithWarmup", `step must be a non-negative integer, got ${step}`);
  check(s.decaySteps >= s.warmupSteps, "cosineWithWarmup", `decaySteps ${s.decaySteps} must be >= warmupSteps ${s.warmupSteps}`);
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / (s.warmupSteps + 1);
  if (step > s.decaySteps) return s.minLr;
  const ratio = s.decaySteps === s.warmupSteps ? 1 : (step - s.warmupSteps) / (s.decaySteps - s.warmupSteps);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.maxLr - s.minLr);
}

/**
 * nanoGPT's configure_optimizers: weight decay on tensors of 2 or more dimensions (matmul
 * weights, embeddings), none on biases and LayerNorm scales.
 */
export function weightDecayGroups(named: [string, Tensor][], weightDecay: number): ParamGroup[] {
  const decay = named.filter(([, p]) => p.ndim >= 2).map(([, p]) => p);
  const noDecay = named.filter(([, p]) => p.ndim < 2).map(([, p]) => p);
  return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }].filter((g) => g.params.length > 0);
}
