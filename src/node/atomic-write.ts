// Crash-safe file writes: write a temporary file beside the target, fsync it, rename it over the
// target (atomic on POSIX), then fsync the directory so the rename itself survives a power cut.
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** A fresh temporary name in the same directory as `path` (same file system, so rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++counter}`);
}

/** Creates `path` (which must not exist), writes `data` and fsyncs it. */
export async function writeNewFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, "wx", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory so renames and new entries in it are durable (skipped where the OS refuses, as on Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES" && code !== "EBADF") throw e;
  } finally {
    await fh?.close();
  }
}

/** Replaces `path` with `data` so that readers see either the old file or the new one, never a mix. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeNewFileSynced(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}
