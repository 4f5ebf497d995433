import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../packages/cli/src/main.ts";
import { REPO_ROOT } from "../peers/index.ts";
import { markdownFiles, shellLines, shellWords } from "./markdown.ts";

const { program } = createProgram({ out: () => {}, err: () => {}, env: {}, cwd: REPO_ROOT });

/** Why `words` (after `platform`) is not a command line the CLI accepts, or undefined when it is. */
function problem(words: string[]): string | undefined {
  let cmd: Command = program;
  const chain: Command[] = [program];
  let i = 0;
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i]!));
    if (!sub) break;
    cmd = sub;
    chain.push(sub);
  }
  if (cmd.commands.length > 0 && i < words.length && !words[i]!.startsWith("-") && cmd !== program) {
    return `"${cmd.name()}" has no subcommand "${words[i]}"`;
  }
  if (cmd === program && i < words.length && !words[i]!.startsWith("-")) return `no command "${words[i]}"`;
  const known = new Set(["--help", "-h", "--version", "-v"]);
  for (const c of chain) for (const o of c.options) for (const f of [o.long, o.short]) if (f) known.add(f);
  for (const w of words.slice(i)) {
    if (!w.startsWith("-") || w === "-") continue;
    const flag = w.startsWith("--") ? w.split("=")[0]! : w;
    if (!known.has(flag)) return `${chain.map((c) => c.name()).join(" ")} has no option ${flag}`;
  }
  return undefined;
}

const lines = markdownFiles(REPO_ROOT).flatMap((file) =>
  shellLines(readFileSync(join(REPO_ROOT, file), "utf8"))
    .map(({ line, command }) => ({ where: `${file}:${line}`, words: shellWords(command) }))
    .filter(({ words }) => words[0] === "platform" || (words[0] === "npx" && words[1] === "platform")),
);

describe("every `platform …` line in README.md and docs/ names a real command and real options", () => {
  it("finds the CLI lines", () => {
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.where.startsWith("README.md:"))).toBe(true);
  });

  it.each(lines.map((l) => [l.where, l.words.join(" "), l.words] as const))(
    "%s: %s",
    (_where, _line, words) => {
      expect(problem(words.slice(words[0] === "npx" ? 2 : 1))).toBeUndefined();
    },
  );

  it("the check itself refuses an unknown command, subcommand or option", () => {
    expect(problem(["no-such"])).toMatch(/no command/);
    expect(problem(["policy", "chek", "x"])).toMatch(/no subcommand/);
    expect(problem(["policy", "check", "x", "--fail-fast"])).toMatch(/has no option --fail-fast/);
    expect(problem(["policy", "check", "x", "--render", "none"])).toBeUndefined();
  });
});
