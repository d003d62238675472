// Gradient recording switch: noGrad(fn) runs fn without building a graph (sampling, optimizer steps).

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn with gradient recording off, restoring the previous state afterwards. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
