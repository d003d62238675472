// Default tolerances by test kind (jax's per-dtype table, adapted).
export const TOL = {
  /** PyTorch fixtures, float32 against float64 references. */
  fixture: { rtol: 1e-4, atol: 1e-5 },
  elementwise: { rtol: 1e-6, atol: 1e-7 },
  reduction: { rtol: 1e-5, atol: 1e-6 },
  gradient: { rtol: 1e-3, atol: 1e-5 },
} as const;
