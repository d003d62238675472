// Headless Chromium through playwright-core for the visualizer tests. Without /usr/bin/chromium the
// tests fail under CI=true and skip loudly elsewhere (.ci/run installs Debian's chromium).
import type { ChildProcess, ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import type { TestContext } from "node:test";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.QKV_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = "test-artifacts";

/**
 * A launched browser, or null after skipping the test (never a silent pass). `webgpu`: with
 * navigator.gpu (--enable-unsafe-webgpu; SwiftShader where there is no GPU) instead of --disable-gpu.
 */
export async function launchBrowser(t: Pick<TestContext, "skip">, path = CHROMIUM, opts: { webgpu?: boolean } = {}): Promise<Browser | null> {
  if (!existsSync(path)) {
    const why = `browser test needs Chromium at ${path} (apt-get install -y chromium)`;
    if (process.env.CI === "true") throw new Error(`${why}; CI=true, so this is a failure`);
    console.warn(`SKIPPED: ${why}`);
    t.skip(why);
    return null;
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: path,
    args: ["--headless", "--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", opts.webgpu ? "--enable-unsafe-webgpu" : "--disable-gpu"],
  });
}

/** The tokened 127.0.0.1 URL a `--serve` command prints on stderr; rejects if it exits first. */
export function servedUrl(child: ChildProcessWithoutNullStreams | ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
      const m = /visualizer at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32})/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`${what} exited with ${code} before printing a URL: ${err}`)));
  });
}
