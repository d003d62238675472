// The visualizer's local HTTP server. Safe by default: binds 127.0.0.1 on a random free port, wants
// a per-launch token on every request, checks Host and Origin (no DNS rebinding), serves its fixed
// routes plus the compiled browser-safe library under /lib/<token>/ (read-only .js files of one
// folder, Node-only entries refused, no traversal), sends no CORS headers, caps request bodies, and
// keeps serving after any bad request.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { posix, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface ServeRoutes {
  /** The page (HTML). */
  page(): string;
  /** GET /api/trace: the current payload as JSON text. */
  trace(): string;
  /** GET /api/live?since=N: live training updates as JSON text (absent: 404). */
  live?(since: number): string;
  /** GET /api/corpus: a short training text for the page's in-browser GPT (absent: 404). */
  corpus?(): string;
  /** POST /api/ablate with a JSON body: a payload recomputed with heads ablated (absent: 404). */
  ablate?(body: unknown): string;
}

export interface ServeOptions {
  /** Interface to bind (default 127.0.0.1). Anything else is reachable from the network: warned. */
  host?: string;
  /** Port (default 0: a random free port). */
  port?: number;
  /** Largest request body in bytes (default 65536). */
  bodyLimit?: number;
  /** The token; random 32 hex characters by default (tests pass their own). */
  token?: string;
  /**
   * Folder of the compiled library served at /lib/<token>/ for the page's in-browser training
   * (default: the one holding this file's cli/, i.e. dist/ or build/src/); null serves no library.
   */
  lib?: string | null;
  warn?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
// 'self': the page imports the library's modules from /lib/; 'wasm-unsafe-eval': the wasm backend compiles its kernels
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
  "Cross-Origin-Resource-Policy": "same-origin",
};

class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads at most `limit` bytes of body; a longer body is a 413. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) return reject(new Refusal(413, `request body over ${limit} bytes`, { Connection: "close" }));
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        reject(new Refusal(413, `request body over ${limit} bytes`, { Connection: "close" }));
        req.removeAllListeners("data");
        req.resume();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The library folder next to this file's cli/: dist/ when installed, build/src/ under the tests. */
export const LIB_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Node-only parts of the compiled library: never served (first path segment, or the whole name). */
const NODE_ONLY = new Set(["node.js", "node", "cli"]);

/**
 * The text of `rel` (a path below /lib/<token>/) inside `root`, or a Refusal: only .js files,
 * no dot segments or hidden names, nothing Node-only, nothing that resolves (links included) outside `root`.
 */
function libFile(root: string, rel: string): string {
  const parts = rel.split("/");
  if (!/^[A-Za-z0-9_\-/.]+\.js$/.test(rel) || parts.some((p) => p === "" || p.startsWith(".")) || posix.normalize(rel) !== rel) throw new Refusal(404, "not found");
  if (NODE_ONLY.has(parts[0])) throw new Refusal(404, "not found");
  let real: string;
  try {
    const base = realpathSync(root);
    real = realpathSync(`${base}${sep}${parts.join(sep)}`);
    if (!real.startsWith(base + sep) || !statSync(real).isFile()) throw new Error("outside");
  } catch {
    throw new Refusal(404, "not found");
  }
  return readFileSync(real, "utf8");
}

/** The request's route after every check, or a Refusal. */
function checkRequest(req: IncomingMessage, allowedHosts: Set<string>, allowedOrigins: Set<string>, token: string): { path: string; query: URLSearchParams } {
  const raw = req.url ?? "";
  if (raw.length > 4096) throw new Refusal(414, "URL too long");
  if (!raw.startsWith("/") || raw.startsWith("//")) throw new Refusal(400, "malformed request target");
  const [rawPath] = raw.split("?", 1);
  // our routes contain no escapes, dots or backslashes: refuse them before any decoding, so
  // encoded (%2e%2e) and double-encoded (%252e) traversal never reaches a lookup
  if (/[%\\\0]|\/\.|\.\.|[^\x21-\x7e]/.test(rawPath)) throw new Refusal(400, "path has escapes, dot segments or odd characters");
  let url: URL;
  try {
    url = new URL(raw, "http://qkv.invalid");
  } catch {
    throw new Refusal(400, "malformed URL");
  }
  const host = (req.headers.host ?? "").toLowerCase();
  if (!allowedHosts.has(host)) throw new Refusal(403, "unexpected Host header");
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins.has(origin.toLowerCase())) throw new Refusal(403, "cross-origin request");
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") throw new Refusal(403, "cross-site request");
  // module imports inside /lib/ resolve relative to the importing file and drop the query, so the
  // library's token travels in the path: /lib/<token>/index.js
  const libToken = url.pathname.startsWith("/lib/") ? url.pathname.split("/")[2] : undefined;
  const given = libToken ?? url.searchParams.get("token") ?? (typeof req.headers["x-qkv-token"] === "string" ? req.headers["x-qkv-token"] : null);
  if (given === null) throw new Refusal(401, "missing token");
  if (!sameToken(given, token)) throw new Refusal(403, "wrong token");
  return { path: url.pathname, query: url.searchParams };
}

/** Starts the server; resolves once it listens, with its URL (token included). */
export function startServer(routes: ServeRoutes, opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const limit = opts.bodyLimit ?? 65536;
  const lib = opts.lib === undefined ? LIB_ROOT : opts.lib;
  const token = opts.token ?? randomBytes(16).toString("hex");
  if (!LOOPBACK.has(host)) (opts.warn ?? console.warn)(`qkv: warning: serving on ${host}, which other machines may reach; anyone with the URL (token included) can read the model's attention`);
  const allowedHosts = new Set<string>();
  const allowedOrigins = new Set<string>();
  const server = createServer(async (req, res) => {
    try {
      const { path, query } = checkRequest(req, allowedHosts, allowedOrigins, token);
      const method = req.method ?? "";
      const get = method === "GET" || method === "HEAD";
      const json = "application/json; charset=utf-8";
      if (path === "/" || path === "/index.html") {
        if (!get) throw new Refusal(405, "method not allowed", { Allow: "GET, HEAD" });
        return send(res, 200, "text/html; charset=utf-8", routes.page());
      }
      if (path.startsWith("/lib/")) {
        if (!get) throw new Refusal(405, "method not allowed", { Allow: "GET, HEAD" });
        if (lib === null) throw new Refusal(404, "not found");
        return send(res, 200, "text/javascript; charset=utf-8", libFile(lib, path.split("/").slice(3).join("/")));
      }
      if (path === "/api/trace") {
        if (!get) throw new Refusal(405, "method not allowed", { Allow: "GET, HEAD" });
        return send(res, 200, json, routes.trace());
      }
      if (path === "/api/live" && routes.live) {
        if (!get) throw new Refusal(405, "method not allowed", { Allow: "GET, HEAD" });
        const since = Number(query.get("since") ?? "0");
        if (!Number.isInteger(since) || since < 0) throw new Refusal(400, "since must be a non-negative integer");
        return send(res, 200, json, routes.live(since));
      }
      if (path === "/api/corpus" && routes.corpus) {
        if (!get) throw new Refusal(405, "method not allowed", { Allow: "GET, HEAD" });
        return send(res, 200, "text/plain; charset=utf-8", routes.corpus());
      }
      if (path === "/api/ablate" && routes.ablate) {
        if (method !== "POST") throw new Refusal(405, "method not allowed", { Allow: "POST" });
        if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) throw new Refusal(415, "expected application/json");
        const text = await readBody(req, limit);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new Refusal(400, "body is not JSON");
        }
        let answer: string;
        try {
          answer = routes.ablate(body);
        } catch (err) {
          throw new Refusal(400, (err as Error).message); // a request naming heads the model lacks
        }
        return send(res, 200, json, answer);
      }
      throw new Refusal(404, "not found");
    } catch (err) {
      if (err instanceof Refusal) return send(res, err.status, "text/plain; charset=utf-8", `${err.status} ${err.message}\n`, err.extra);
      send(res, 500, "text/plain; charset=utf-8", `500 ${(err as Error).message}\n`);
    }
  });
  // unparsable HTTP: answer 400 and drop that connection only
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const port = (server.address() as AddressInfo).port;
      const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
      // a wildcard bind answers on every interface: accept their addresses (and loopback) as Host
      const wildcard = host === "0.0.0.0" || host === "::";
      const names = LOOPBACK.has(host) ? ["127.0.0.1", "localhost", "[::1]"]
        : wildcard ? ["127.0.0.1", "localhost", "[::1]", bracket(host), hostname(), ...Object.values(networkInterfaces()).flat().map((a) => bracket(a?.address ?? "")).filter((a) => a !== "")]
        : [bracket(host)];
      for (const n of names) {
        allowedHosts.add(`${n}:${port}`.toLowerCase());
        allowedOrigins.add(`http://${n}:${port}`.toLowerCase());
      }
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${port}/?token=${token}`,
        host, port, token,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
