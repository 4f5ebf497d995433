import { main } from "./main.ts";

// readline and stream/consumers are imported when a run reads stdin or prompts, not at every start-up.

process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  stdin: async () => (await import("node:stream/consumers")).text(process.stdin),
  // Prompts go to stderr, so a prompt never mixes into output that is piped on.
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  ask: async (question) => {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
  stdoutIsTTY: process.stdout.isTTY === true,
});
