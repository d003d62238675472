// qkv export-onnx SRC --out model.onnx: the GPT in a qkv checkpoint or a Hugging Face GPT-2
// directory as an ONNX graph (opset 17, dynamic batch and sequence) for onnxruntime.
import { resolve } from "node:path";
import { exportGptOnnx, ONNX_OPSET } from "../../io/onnx.js";
import { loadGpt, writeFileAtomic } from "../../node.js";
import { parseFlags, UsageError, type Command } from "../args.js";

const NAME = "export-onnx";

const usage = `Usage: qkv export-onnx SRC --out model.onnx [--kv-cache]

Writes the GPT in SRC (a qkv checkpoint, run or step folder, or a Hugging Face GPT-2 directory) as
an ONNX model, opset ${ONNX_OPSET}: input "input_ids" int64 (batch, sequence), output "logits" float32
(batch, sequence, vocab), both axes dynamic. GPT-2-style models only (learned positions, biases,
no GQA, no sliding window). Runs in onnxruntime (Node, web, Python).

Options:
  --out FILE       the .onnx file to write (required)
  --kv-cache       add past_key_L/past_value_L inputs (batch, heads, past, head dim) and
                   present_key_L/present_value_L outputs, for token-by-token decoding
  -h, --help       show this help`;

export const exportOnnx: Command = {
  name: NAME,
  summary: "write a trained GPT as an ONNX model (opset 17, dynamic batch and sequence)",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(NAME, argv, { out: { type: "string" }, "kv-cache": { type: "boolean" } }, { positionals: 1 });
    const out = (values as Record<string, string | undefined>).out;
    const kvCache = (values as Record<string, boolean | undefined>)["kv-cache"] === true;
    if (positionals.length !== 1) throw new UsageError(`${NAME}: expected one SRC directory`);
    if (out === undefined) throw new UsageError(`${NAME}: --out FILE is required`);
    const { model, dir } = await loadGpt(positionals[0]);
    const bytes = exportGptOnnx(model, { kvCache });
    await writeFileAtomic(resolve(out), bytes);
    console.log(`wrote ${resolve(out)} (${(bytes.length / 2 ** 20).toFixed(1)} MiB, opset ${ONNX_OPSET}${kvCache ? ", KV cache" : ""}) from ${dir}`);
    return 0;
  },
};
