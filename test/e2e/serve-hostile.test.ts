// The visualizer server against hostile requests: each gets the right refusal, nothing leaks a file
// or a CORS header, and the next good request still succeeds.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { startServer, type RunningServer } from "../../src/cli/serve.js";

const TOKEN = "0123456789abcdef0123456789abcdef";
let srv: RunningServer;
let ablateCalls = 0;

before(async () => {
  srv = await startServer({
    page: () => "<!doctype html><title>qkv</title>",
    trace: () => JSON.stringify({ ok: true }),
    live: (since) => JSON.stringify({ since }),
    ablate: (body) => { ablateCalls++; return JSON.stringify({ got: body }); },
  }, { token: TOKEN, bodyLimit: 1024 });
});
after(() => srv.close());

interface Reply { status: number; headers: string; body: string }

/** Sends raw bytes (exactly as written, no client-side URL normalisation) and parses the reply. */
function raw(request: string | Buffer, opts: { keepSending?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = connect(srv.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", (e) => (chunks.length ? undefined : reject(e)));
    sock.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head, ...rest] = text.split("\r\n\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!m) return reject(new Error(`no HTTP status in reply: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(m[1]), headers: head.toLowerCase(), body: rest.join("\r\n\r\n") });
    });
    sock.write(request);
    if (opts.keepSending) sock.write(opts.keepSending, () => sock.end());
  });
}

const host = () => `127.0.0.1:${srv.port}`;
const get = (target: string, headers: Record<string, string> = {}) => {
  const h = { Host: host(), Connection: "close", ...headers };
  return raw(`GET ${target} HTTP/1.1\r\n${Object.entries(h).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
};
const post = (target: string, body: string, headers: Record<string, string> = {}) => {
  const h = { Host: host(), Connection: "close", "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), ...headers };
  return raw(`POST ${target} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`);
};

async function goodRequestStillWorks(): Promise<void> {
  const r = await get(`/api/trace?token=${TOKEN}`);
  assert.equal(r.status, 200);
  assert.equal(r.body, '{"ok":true}');
}

const T = `token=${TOKEN}`;
const hostile: [string, () => Promise<Reply>, number][] = [
  ["missing token", () => get("/api/trace"), 401],
  ["wrong token", () => get("/api/trace?token=ffffffffffffffffffffffffffffffff"), 403],
  ["token with an extra character", () => get(`/api/trace?token=${TOKEN}0`), 403],
  ["token in the wrong header", () => get("/api/trace", { "X-Token": TOKEN }), 401],
  ["plain ../ traversal", () => get(`/../../etc/passwd?${T}`), 400],
  ["encoded %2e%2e traversal", () => get(`/%2e%2e/%2e%2e/etc/passwd?${T}`), 400],
  ["double-encoded %252e%252e traversal", () => get(`/%252e%252e/%252e%252e/etc/passwd?${T}`), 400],
  ["encoded slash ..%2f traversal", () => get(`/..%2f..%2fetc%2fpasswd?${T}`), 400],
  ["backslash traversal", () => get(`/..\\..\\etc\\passwd?${T}`), 400],
  ["overlong UTF-8 dot %c0%ae", () => get(`/%c0%ae%c0%ae/etc/passwd?${T}`), 400],
  ["dot segment /./", () => get(`/./api/trace?${T}`), 400],
  ["a file that is not a route", () => get(`/etc/passwd?${T}`), 404],
  ["a source file of the server", () => get(`/serve.js?${T}`), 404],
  ["protocol-relative target //evil", () => get(`//evil.example/api/trace?${T}`), 400],
  ["absolute-form target", () => get(`http://evil.example/api/trace?${T}`), 400],
  ["malformed percent escape", () => get(`/api/trace%?${T}`), 400],
  ["foreign Host (DNS rebinding)", () => get(`/api/trace?${T}`, { Host: `evil.example:${srv.port}` }), 403],
  ["right name, wrong port in Host", () => get(`/api/trace?${T}`, { Host: `127.0.0.1:${srv.port + 1}` }), 403],
  ["missing Host", () => get(`/api/trace?${T}`, { Host: "" }), 400],
  ["foreign Origin", () => get(`/api/trace?${T}`, { Origin: "http://evil.example" }), 403],
  ["Origin null", () => get(`/api/trace?${T}`, { Origin: "null" }), 403],
  ["Sec-Fetch-Site cross-site", () => get(`/api/trace?${T}`, { "Sec-Fetch-Site": "cross-site" }), 403],
  ["oversized body (declared)", () => post(`/api/ablate?${T}`, "x".repeat(5000)), 413],
  ["oversized body (chunked, undeclared)", () => raw(`POST /api/ablate?${T} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, { keepSending: Buffer.from(`1000\r\n${"x".repeat(4096)}\r\n1000\r\n${"y".repeat(4096)}\r\n0\r\n\r\n`) }), 413],
  ["body that is not JSON", () => post(`/api/ablate?${T}`, "{not json"), 400],
  ["wrong content type", () => post(`/api/ablate?${T}`, "{}", { "Content-Type": "text/plain" }), 415],
  ["wrong method on the page", () => raw(`DELETE /?${T} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`), 405],
  ["negative since", () => get(`/api/live?since=-1&${T}`), 400],
  ["garbage request line", () => raw("GARBAGE\r\n\r\n"), 400],
  ["URL over 4 KiB", () => get(`/api/trace?${T}&pad=${"a".repeat(5000)}`), 414],
  ["library without a token", () => get("/lib/index.js"), 403],
  ["library with a wrong token", () => get("/lib/ffffffffffffffffffffffffffffffff/index.js"), 403],
  ["library with the token only in the query", () => get(`/lib/index.js?${T}`), 403],
  ["library ../ escape", () => get(`/lib/${TOKEN}/../cli/serve.js`), 400],
  ["library ../ escape past the root", () => get(`/lib/${TOKEN}/../../package.json`), 400],
  ["library encoded %2e%2e escape", () => get(`/lib/${TOKEN}/%2e%2e/cli/serve.js`), 400],
  ["library dot segment", () => get(`/lib/${TOKEN}/./index.js`), 400],
  ["library Node entry node.js", () => get(`/lib/${TOKEN}/node.js`), 404],
  ["library Node folder node/", () => get(`/lib/${TOKEN}/node/webgpu.js`), 404],
  ["library CLI cli/main.js", () => get(`/lib/${TOKEN}/cli/main.js`), 404],
  ["library CLI server cli/serve.js", () => get(`/lib/${TOKEN}/cli/serve.js`), 404],
  ["library source map", () => get(`/lib/${TOKEN}/index.js.map`), 404],
  ["library file that does not exist", () => get(`/lib/${TOKEN}/nope.js`), 404],
  ["library folder", () => get(`/lib/${TOKEN}/backend`), 404],
  ["library double slash", () => get(`/lib/${TOKEN}//index.js`), 404],
  ["library POST", () => post(`/lib/${TOKEN}/index.js`, "{}"), 405],
];

test("server binds 127.0.0.1 on a random port and prints a URL with its token", () => {
  assert.equal(srv.host, "127.0.0.1");
  assert.ok(srv.port > 0);
  assert.equal(srv.url, `http://127.0.0.1:${srv.port}/?token=${TOKEN}`);
});

test("good requests: page, trace, live and ablate answer without CORS headers", async () => {
  const page = await get(`/?${T}`);
  assert.equal(page.status, 200);
  assert.match(page.headers, /content-security-policy: default-src 'none'/);
  assert.doesNotMatch(page.headers, /access-control-allow/);
  assert.equal((await get(`/api/live?since=3&${T}`)).body, '{"since":3}');
  assert.equal((await get("/api/trace", { "X-Qkv-Token": TOKEN })).status, 200);
  assert.equal((await get(`/api/trace?${T}`, { Host: `localhost:${srv.port}`, Origin: `http://localhost:${srv.port}` })).status, 200);
  const lib = await get(`/lib/${TOKEN}/index.js`);
  assert.equal(lib.status, 200);
  assert.match(lib.headers, /content-type: text\/javascript/);
  assert.match(lib.body, /export \{ setBackend/, "the compiled library's entry");
  assert.equal((await get(`/lib/${TOKEN}/backend/select.js`, { Origin: `http://127.0.0.1:${srv.port}`, "Sec-Fetch-Site": "same-origin" })).status, 200);
  assert.match(page.headers, /script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'/);
  const ab = await post(`/api/ablate?${T}`, '[{"layer":0,"head":1}]');
  assert.equal(ab.status, 200);
  assert.equal(ab.body, '{"got":[{"layer":0,"head":1}]}');
});

for (const [name, send, status] of hostile) {
  test(`hostile request refused: ${name} -> ${status}, and the next good request succeeds`, async () => {
    const calls = ablateCalls;
    const r = await send();
    assert.equal(r.status, status, `${name}: ${r.body}`);
    assert.doesNotMatch(r.headers, /access-control-allow/);
    assert.doesNotMatch(r.body, /root:|"ok":true/, "no file or data leaked");
    assert.equal(ablateCalls, calls, "the refused request never reached a route");
    await goodRequestStillWorks();
  });
}

test("a --host other than loopback is warned about", async () => {
  const warnings: string[] = [];
  const s = await startServer({ page: () => "", trace: () => "{}" }, { host: "0.0.0.0", warn: (m) => warnings.push(m) });
  try {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /0\.0\.0\.0.*other machines/);
    assert.match(s.token, /^[0-9a-f]{32}$/);
    // a wildcard bind still checks Host: loopback names pass, foreign names do not
    const ask = (hostHeader: string) => new Promise<number>((resolve, reject) => {
      const sock = connect(s.port, "127.0.0.1");
      let text = "";
      sock.on("data", (c) => (text += c.toString()));
      sock.on("error", reject);
      sock.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])));
      sock.write(`GET /api/trace?token=${s.token} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
    });
    assert.equal(await ask(`127.0.0.1:${s.port}`), 200);
    assert.equal(await ask(`evil.example:${s.port}`), 403);
  } finally {
    await s.close();
  }
});
