#!/usr/bin/env node
// The qkv command: dispatches to one module per command in ./commands.
import { UsageError, type Command } from "./args.js";
import { party } from "./commands/party.js";
import { resume } from "./commands/resume.js";
import { sample } from "./commands/sample.js";
import { train } from "./commands/train.js";
import { convertCommand } from "./commands/convert.js";
import { exportOnnx } from "./commands/export-onnx.js";
import { inspect } from "./commands/inspect.js";
import { initBackend } from "../backend/select.js";
import { useThreads } from "../node.js";

const commands: Command[] = [party, train, resume, sample, convertCommand, exportOnnx, inspect];

const usage = `Usage: qkv <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join("\n")}

Run "qkv <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`qkv: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  // wasm kernels on every core (QKV_THREADS=n to choose; QKV_BACKEND=js for the reference loops,
  // QKV_BACKEND=webgpu for the GPU through the webgpu package)
  if ((await initBackend()) === "wasm") await useThreads(Number(process.env.QKV_THREADS) || undefined);
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${command.usage}`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? `qkv: ${err.message}` : err);
    process.exitCode = 1;
  },
);
