import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// Start-up code imports core's errors, log and list only: the @platform/core barrel brings its config loader
// (zod and both YAML parsers, ~50 ms of every run); each command's handler imports @platform/core itself.
import { ExitCode, errorMessage, exitCodeFor, PlatformError } from "@platform/core/errors";
import { createLogger } from "@platform/core/log";
import { type Command, CommanderError } from "commander";
import { registerBuildScan } from "./build-scan.ts";
import { registerBump } from "./bump.ts";
import { registerCanary } from "./canary.ts";
import { type Cli, examples, installConventions, type LogLevelName, PlatformCommand } from "./cli.ts";
import { registerCompletion } from "./completion.ts";
import { registerDemo } from "./demo.ts";
import { registerDr } from "./dr.ts";
import { describeForCli } from "./errors.ts";
import { registerIac } from "./iac.ts";
import { registerPolicy } from "./policy.ts";
import { registerScan } from "./scan.ts";
import { registerSign } from "./sign.ts";
import { registerTeam } from "./team.ts";
import { registerUpgrade } from "./upgrade.ts";

/** The version stamped into the bundle at build time (falls back for source runs). */
declare const __PLATFORM_VERSION__: string | undefined;
const VERSION = typeof __PLATFORM_VERSION__ === "string" ? __PLATFORM_VERSION__ : "0.0.0-dev";

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** All of stdin, for `-` as a path (absent: `-` is refused). */
  stdin?: () => Promise<string>;
  /** stdin and stderr are a terminal: `team add` may prompt. */
  interactive?: boolean;
  /** Asks one question on the terminal and returns the answer. */
  ask?: (question: string) => Promise<string>;
  /** stdout is a terminal (colour). */
  stdoutIsTTY?: boolean;
}

/** Finds the repository root (for the bundled example and the peers folder) from the CLI's own location. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "examples", "northwind", "platform.yaml"))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

const noStdin = () =>
  Promise.reject(
    new PlatformError("CLI_NO_STDIN", "this CLI was started without a readable stdin", {
      hint: "Pass a file path instead of -.",
    }),
  );

interface State {
  code: number;
  level: LogLevelName;
  /** The command whose action runs (errors name its flags). */
  active?: Command;
}

/** Each command family's top-level command names and its registration, in the root help's order. */
export const FAMILIES: ReadonlyArray<
  readonly [readonly string[], (program: PlatformCommand, cli: Cli) => void]
> = [
  [["policy"], registerPolicy],
  [["iac"], registerIac],
  [["bump"], registerBump],
  [["build-scan"], registerBuildScan],
  [["scan"], registerScan],
  [["upgrade"], registerUpgrade],
  [["dr"], registerDr],
  [["canary"], registerCanary],
  [["sign", "verify"], registerSign],
  [["team"], registerTeam],
  [["demo"], registerDemo],
];

/**
 * The `platform` command tree wired to `io` (main runs it; tests walk it). With `argv`, only the command
 * family argv's first word names is built (the whole tree when it names none).
 */
export function createProgram(
  io: CliIo,
  argv?: readonly string[],
): {
  program: PlatformCommand;
  state: State;
  cli: Cli;
  /** Removes what the run left behind (stdin's temporary files). */
  cleanup: () => Promise<void>;
} {
  const state: State = {
    code: ExitCode.ok,
    level: io.env.PLATFORM_DEBUG === "1" ? "debug" : "info",
  };
  // Output names stdin's temporary file <stdin> (installConventions knows it once it exists).
  let shown = (s: string) => s;
  // Progress and logs go to stderr so stdout carries only the result (table or --json).
  const log = createLogger({
    write: (l, line) =>
      (l !== "debug" || state.level !== "info") && io.err(shown(`${l === "info" ? "" : `${l}: `}${line}\n`)),
  });
  const cli: Cli = {
    out: (s) => io.out(shown(s)),
    err: (s) => io.err(shown(s)),
    env: io.env,
    cwd: io.cwd,
    log,
    color: !io.env.NO_COLOR && io.env.FORCE_COLOR !== "0" && (io.stdoutIsTTY ?? false),
    version: VERSION,
    repoRoot: repoRoot(),
    stdin: io.stdin ?? noStdin,
    interactive: io.interactive === true && io.ask !== undefined,
    ask: io.ask ?? (() => Promise.resolve("")),
    done: (c) => {
      state.code = c;
    },
  };
  const program = new PlatformCommand("platform")
    .description("Platform toolkit: guardrails and delivery for teams on a shared private AKS cluster")
    .version(VERSION, "-v, --version")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  const conventions = installConventions(program, cli, (l) => {
    state.level = l;
  });
  shown = conventions.shown;
  program.hook("preAction", (_this, action) => {
    state.active = action;
  });

  // One line per command family; each file registers its commands (and their help examples). A run whose
  // first word names one of these families builds only that family (plus the root and its global options):
  // building the whole tree costs every run a few ms (~5 ms of a ~20 ms start-up over bare node). Everything
  // else (no command, help, completion, options first, an unknown word) builds the whole tree, so the root's
  // help, suggestions and completion scripts see every command.
  const only = argv?.[0] !== undefined ? FAMILIES.find(([names]) => names.includes(argv[0]!)) : undefined;
  for (const family of only ? [only] : FAMILIES) family[1](program, cli);
  if (!only) registerCompletion(program, cli);
  examples(
    program,
    "$ platform policy check apps/ --policies builtin        # dry-run manifests against the guardrails",
    "$ platform sign --image-ref myacr.azurecr.io/web@sha256:… --key azurekv://vault/release",
    "$ platform team add                                     # onboard a team (asks on a terminal)",
    "$ platform <command> --help                              # every command has examples",
  );
  return { program, state, cli, cleanup: conventions.cleanup };
}

/** Runs the `platform` CLI with argv (without node and script); returns the exit code, never exits. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const { program, state, cleanup, cli } = createProgram(io, argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof PlatformError) cli.err(`error: ${describeForCli(err, state.active)}\n`);
    else cli.err(`error: ${errorMessage(err)}\n`);
    if (state.level === "trace" && err instanceof Error && err.stack) cli.err(`${err.stack}\n`);
    return exitCodeFor(err);
  } finally {
    await cleanup();
  }
}
