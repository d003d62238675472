// Errors that name the function, what it expected and what it got (jax-js style).

/** Throws `Error("fn: message")` unless `cond` holds. */
export function check(cond: unknown, fn: string, message: string | (() => string)): asserts cond {
  if (!cond) throw new Error(`${fn}: ${typeof message === "function" ? message() : message}`);
}

/** Formats a shape as `(2, 4, 8)` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}
