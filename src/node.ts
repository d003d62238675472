// qkv/node: Node-only helpers (file access). The browser-safe library is the "qkv" entry (src/index.ts).
export { writeFileAtomic, fsyncDir } from "./node/atomic-write.js";
export { saveCheckpoint, loadCheckpoint, loadCheckpointDir, listCheckpoints, stepDirName, LATEST_FILE, type SaveCheckpointOptions, type LoadedCheckpoint } from "./node/checkpoint.js";
export type { Checkpoint } from "./io/checkpoint.js";
export { loadPretrained, saveHfGpt2, isHfGpt2Dir, loadGpt, HF_CONFIG_FILE, HF_WEIGHTS_FILE, HF_TOKENIZER_FIELD, type LoadedGpt } from "./node/pretrained.js";
