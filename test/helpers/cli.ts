// Runs the compiled qkv CLI (build/src/cli/main.js) as a child process, for the end-to-end tests.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./fixtures.js";

export const CLI = join(repoRoot, "build", "src", "cli", "main.js");

/** qkv with `args` (and extra environment); resolves with the exit code and both outputs. */
export function runQkv(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last line of a --json run's stdout, parsed. */
export function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
