// Checkpoint directories on disk:
//   root/step-00000100/{config.json, model.safetensors, optimizer.safetensors, state.json}
//   root/latest            "step-00000100\n", written atomically, updated only after the directory is complete
// A step directory appears by one rename of a fully written, fsynced temporary directory, so a crash
// at any moment leaves either the old set of directories or the new one. One writer per root.
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { CHECKPOINT_FILES, CheckpointError, checkpointFromFiles, checkpointStep, checkpointToFiles, type Checkpoint } from "../io/checkpoint.js";
import { fsyncDir, writeFileAtomic, writeNewFileSynced } from "./atomic-write.js";

export const LATEST_FILE = "latest";
const STEP_DIR = /^step-(\d{8,})$/;
const OLD_STEP_DIR = /^step-(\d{8,})\.old-\d+-\d+$/;
/** Leftovers of interrupted saves: temporary step directories, replaced or rotated-out directories, temp files. */
const LEFTOVER = /^(\.tmp-step-|\.trash-step-|step-\d{8,}\.old-|\.latest\.tmp-)/;

export interface SaveCheckpointOptions {
  /** How many step directories to keep (newest by step; the one `latest` names is always kept). Default 3. */
  keep?: number;
  /** Called as the save passes each phase (for progress display and crash tests). */
  onProgress?: (phase: string) => void;
}

export interface LoadedCheckpoint extends Checkpoint {
  /** The step directory that was loaded. */
  dir: string;
  /** Why newer candidates were passed over (a broken or missing `latest`, unreadable directories). */
  skipped: string[];
}

let counter = 0;
const inFlight = new Set<string>();

/** `step-00000100`: the directory name for a step (at least 8 digits). */
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, "0")}`;
}

/**
 * Saves `ckpt` as root/step-<step>/ (step from `ckpt.state.step`), then points root/latest at it,
 * then removes old step directories beyond `keep`. The checkpoint is serialized before the first
 * await, so the caller may keep training while the files are written; await one save before starting
 * the next on the same root (one writer per root). Resolves to the directory.
 */
export async function saveCheckpoint(root: string, ckpt: Checkpoint, opts: SaveCheckpointOptions = {}): Promise<string> {
  const fn = "saveCheckpoint";
  const keep = opts.keep ?? 3;
  if (!Number.isSafeInteger(keep) || keep < 1) throw new CheckpointError(`${fn}: keep must be an integer >= 1, got ${keep}`);
  const progress = opts.onProgress ?? (() => undefined);
  const name = stepDirName(checkpointStep(ckpt, fn));
  const files = checkpointToFiles(ckpt);
  progress("serialized");
  await mkdir(root, { recursive: true });
  const final = join(root, name);
  const tmp = join(root, `.tmp-${name}-${process.pid}-${++counter}`);
  inFlight.add(tmp);
  try {
    await mkdir(tmp);
    progress("tmp-dir");
    for (const [file, bytes] of files) {
      await writeNewFileSynced(join(tmp, file), bytes);
      progress(`wrote ${file}`);
    }
    await fsyncDir(tmp);
    progress("synced");
    await replaceDir(root, tmp, final, progress);
    await fsyncDir(root);
    progress("renamed");
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  } finally {
    inFlight.delete(tmp);
  }
  await writeFileAtomic(join(root, LATEST_FILE), name + "\n");
  progress("latest");
  await rotate(root, keep, name);
  progress("rotated");
  return final;
}

/** Renames `tmp` to `final`; an existing `final` (the same step saved again) is moved aside first. */
async function replaceDir(root: string, tmp: string, final: string, progress: (phase: string) => void): Promise<void> {
  try {
    await rename(tmp, final);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EPERM") throw e;
  }
  // Between these two renames `final` is missing; loadCheckpoint then falls back to the .old copy.
  const old = `${final}.old-${process.pid}-${++counter}`;
  await rename(final, old);
  progress("moved-aside");
  await rename(tmp, final);
  await fsyncDir(root);
  await rm(old, { recursive: true, force: true });
}

/** Keeps the newest `keep` step directories and the one `latest` names; clears leftovers of crashed saves. */
async function rotate(root: string, keep: number, latestName: string): Promise<void> {
  const names = await readdir(root);
  const steps = names.filter((n) => STEP_DIR.test(n)).sort(byStepDesc);
  for (const n of steps.slice(keep)) {
    if (n === latestName) continue;
    // rename first so no half-deleted step directory is ever visible
    const trash = join(root, `.trash-${n}-${process.pid}-${++counter}`);
    await rename(join(root, n), trash);
    await rm(trash, { recursive: true, force: true });
  }
  // (this process's own temp `latest` may belong to a concurrent save; crashed processes' are fair game)
  const ownLatestTemp = `.${LATEST_FILE}.tmp-${process.pid}-`;
  for (const n of names) {
    if (LEFTOVER.test(n) && !inFlight.has(join(root, n)) && !n.startsWith(ownLatestTemp)) await rm(join(root, n), { recursive: true, force: true });
  }
}

function stepOf(name: string): number {
  const m = STEP_DIR.exec(name) ?? OLD_STEP_DIR.exec(name);
  return m ? Number(m[1]) : -1;
}

function byStepDesc(a: string, b: string): number {
  return stepOf(b) - stepOf(a) || (OLD_STEP_DIR.test(a) ? 1 : 0) - (OLD_STEP_DIR.test(b) ? 1 : 0);
}

/** Step directories under `root`, newest first (complete ones only; `.old` copies after their step). */
export async function listCheckpoints(root: string): Promise<string[]> {
  const names = await readdir(root, { withFileTypes: true });
  return names.filter((d) => d.isDirectory() && (STEP_DIR.test(d.name) || OLD_STEP_DIR.test(d.name))).map((d) => d.name).sort(byStepDesc).map((n) => join(root, n));
}

/** Loads one step directory. */
export async function loadCheckpointDir(dir: string): Promise<Checkpoint> {
  const files = new Map<string, Uint8Array>();
  for (const file of Object.values(CHECKPOINT_FILES)) {
    try {
      files.set(file, await readFile(join(dir, file)));
    } catch (e) {
      throw new CheckpointError(`loadCheckpoint: cannot read ${file} in ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }
  return checkpointFromFiles(files, dir);
}

/**
 * Loads a checkpoint from a step directory, or from a root: the directory `latest` names, or when
 * `latest` is missing or broken, the newest step directory that loads.
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const fn = "loadCheckpoint";
  if (await exists(join(path, CHECKPOINT_FILES.state)) || await exists(join(path, CHECKPOINT_FILES.model))) {
    return { ...(await loadCheckpointDir(path)), dir: path, skipped: [] };
  }
  if (!(await exists(path))) throw new CheckpointError(`${fn}: ${path} does not exist`);
  const skipped: string[] = [];
  let named: string | null = null;
  try {
    const text = (await readFile(join(path, LATEST_FILE), "utf8")).trim();
    // only a plain step name is followed, never an arbitrary path
    if (STEP_DIR.test(text)) named = join(path, text);
    else skipped.push(`${LATEST_FILE} holds ${JSON.stringify(text.slice(0, 40))}, not a step directory name`);
  } catch (e) {
    skipped.push(`${LATEST_FILE}: ${(e as Error).message}`);
  }
  const candidates = await listCheckpoints(path);
  for (const dir of named === null ? candidates : [named, ...candidates.filter((d) => d !== named)]) {
    try {
      return { ...(await loadCheckpointDir(dir)), dir, skipped };
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  const why = candidates.length === 0 && named === null ? " (no step directories)" : `: ${skipped.join("; ")}`;
  throw new CheckpointError(`${fn}: no loadable checkpoint in ${path}${why}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
