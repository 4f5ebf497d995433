import { type Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { commandPath } from "./cli.ts";
import { createProgram, FAMILIES } from "./main.ts";

/** Parses argv on a program built for `argv` (lazy: one family) or in full: output, error code, parse state. */
async function parse(argv: string[], lazy: boolean) {
  let out = "";
  let err = "";
  const io = {
    out: (s: string) => {
      out += s;
    },
    err: (s: string) => {
      err += s;
    },
    env: {},
    cwd: "/",
  };
  const { program } = createProgram(io, lazy ? argv : undefined);
  let code: string | undefined;
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = `${e.code} ${e.exitCode}`;
  }
  return { out, err, code, globals: program.opts(), args: program.args };
}

/** Every command under a top-level command, itself included. */
function tree(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(tree)];
}

describe("lazy registration (only the family argv names is built)", () => {
  const full = createProgram({ out: () => {}, err: () => {}, env: {}, cwd: "/" }).program;

  it("FAMILIES names every top-level command but completion, in the root help's order", () => {
    const names = full.commands.map((c) => c.name());
    expect(names).toEqual([...FAMILIES.flatMap(([n]) => n), "completion"]);
    for (const [n, register] of FAMILIES) {
      const { program } = createProgram({ out: () => {}, err: () => {}, env: {}, cwd: "/" }, [n[0]!]);
      expect(
        program.commands.map((c) => c.name()),
        String(register.name),
      ).toEqual(n);
    }
  });

  it("help, errors and parse results of every command equal those with the whole tree", async () => {
    const cases: string[][] = [];
    for (const top of full.commands.filter((c) => c.name() !== "completion"))
      for (const c of tree(top)) {
        const p = commandPath(c).split(" ");
        cases.push(
          [...p, "--help"],
          [...p, "--no-such-flag"],
          [...p, "-h", "--verbose"],
          [...p, "--version"],
        );
        // Words after a command with subcommands name a subcommand (after a leaf they are its arguments).
        if (c.commands.length) cases.push([...p, "no-such-command"], [...p, "help"], p);
      }
    // Root-level words that are not a family build the whole tree on both sides.
    cases.push([], ["--help"], ["help"], ["help", "policy"], ["polcy"], ["--verbose", "policy", "--help"]);
    expect(cases.length).toBeGreaterThan(60);
    for (const argv of cases) {
      const [lazy, whole] = [await parse(argv, true), await parse(argv, false)];
      expect(lazy, argv.join(" ")).toEqual(whole);
      expect(lazy.code, argv.join(" ")).toBeDefined();
    }
  });
});
