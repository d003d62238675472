// qkv party end to end: the compiled CLI reaches the bar with default settings for Adam and
// for SGD (accuracy >= 98 % on 1,000 fresh parties, strongest attention on the right guest in >= 95 %
// of correct answers); bad flags exit 2 with the usage. Timings are printed, never asserted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lastJson, runQkv as qkv } from "../helpers/cli.js";

describe("qkv party --json with default settings", { concurrency: true }, () => {
  for (const optimizer of ["adam", "sgd"]) {
    test(`${optimizer}: accuracy >= 0.98 and attention hit rate >= 0.95 on fresh parties`, async () => {
      const args = optimizer === "adam" ? ["party", "--json"] : ["party", "--json", "--optimizer", "sgd"];
      const { code, stdout, stderr } = await qkv(args);
      assert.equal(code, 0, stderr);
      const r = lastJson(stdout);
      console.log(`# party ${optimizer}: accuracy ${r.accuracy}, attentionHitRate ${r.attentionHitRate}, ${r.seconds} s wall, ${r.cpuSeconds} s cpu`);
      assert.equal(r.optimizer, optimizer);
      assert.equal(r.parties, 1000);
      assert.equal(r.guests, 8);
      for (const key of ["accuracy", "attentionHitRate", "steps", "seconds", "finalLoss"]) assert.equal(typeof r[key], "number", `${key} missing`);
      assert.ok((r.accuracy as number) >= 0.98, `accuracy ${r.accuracy}`);
      assert.ok((r.attentionHitRate as number) >= 0.95, `attentionHitRate ${r.attentionHitRate}`);
      assert.ok((r.finalLoss as number) < 0.1, `finalLoss ${r.finalLoss}`);
      assert.equal(stderr, "", "--json prints no progress");
    });
  }
});

test("qkv party report: party maps without colour when NO_COLOR is set", async () => {
  const { code, stdout } = await qkv(["party", "--steps", "30", "--guests", "3", "--show", "2", "--seed", "5"], { NO_COLOR: "1" });
  assert.equal(code, 0);
  assert.ok(!stdout.includes("\x1b"), "escape codes despite NO_COLOR");
  assert.match(stdout, /accuracy \d+\.\d%/);
  const asks = stdout.match(/^Party \d+ {2}\w+ asks: what is \w+'s story\?$/gm) ?? [];
  assert.equal(asks.length, 3, "two maps and the first miss");
  assert.equal((stdout.match(/^ {2}▶ /gm) ?? []).length, 3, "one most-attended marker per party");
  assert.match(stdout, /answer: \w+ hears "[^"]+" (✓|✗)/);
  // 30 steps leave it mostly wrong, so a miss is shown after the two maps
  assert.match(stdout, /^A question it got wrong:\nParty 3 /m);
});

const badFlags: [string[], RegExp][] = [
  [["--guests", "30"], /--guests expects an integer >= 2 <= 24, got "30"/],
  [["--guests", "1"], /--guests expects an integer/],
  [["--lr", "fast"], /--lr expects a number/],
  [["--lr", "0"], /--lr expects a number > 0/],
  [["--optimizer", "foo"], /--optimizer expects one of adam, sgd, got "foo"/],
  [["--steps", "2.5"], /--steps expects an integer/],
  [["--seed=-1"], /--seed expects an integer >= 0/],
  [["--colour"], /Unknown option '--colour'/],
  [["--steps"], /--steps/],
  [["extra"], /Unexpected argument 'extra'/],
];

describe("qkv party rejects bad flags with exit code 2 and the usage", { concurrency: true }, () => {
  for (const [flags, message] of badFlags) {
    test(flags.join(" "), async () => {
      const { code, stdout, stderr } = await qkv(["party", ...flags]);
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.match(stderr, message);
      assert.match(stderr, /Usage: qkv party \[options\]/);
    });
  }
});

test("qkv party --help prints the usage and exits 0", async () => {
  const { code, stdout } = await qkv(["party", "--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /Usage: qkv party \[options\]/);
  for (const flag of ["--seed", "--steps", "--guests", "--optimizer", "--lr", "--json"]) assert.ok(stdout.includes(flag), `usage lacks ${flag}`);
});
