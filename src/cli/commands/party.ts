// qkv party: placeholder until the party task lands (issue #2).
import { parseFlags, type Command } from "../args.js";

export const party: Command = {
  name: "party",
  summary: "train attention to answer who-told-what questions at a party, and show who listened to whom",
  usage: "Usage: qkv party [options]",
  async run(argv) {
    parseFlags("party", argv, {});
    throw new Error("qkv party: not written yet");
  },
};
