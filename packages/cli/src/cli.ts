import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { Logger } from "@platform/core";
import { PlatformError } from "@platform/core/errors";
import { Command, Help, Option } from "commander";

/** What every command's registration receives: the terminal, the logger and where the exit code goes. */
export interface Cli {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** The directory relative paths resolve against (the shell's current directory). */
  cwd: string;
  log: Logger;
  /** Colour on stdout (a TTY, and neither NO_COLOR nor FORCE_COLOR=0). */
  color: boolean;
  version: string;
  /** The repository root next to this CLI (the bundled example and the peers folder), when there is one. */
  repoRoot?: string;
  /** Reads all of stdin (for `-` as a manifest or report path). */
  stdin: () => Promise<string>;
  /** stdin is a terminal: commands may prompt for what flags did not give. */
  interactive: boolean;
  /** Prompts for one line on the terminal (only called when `interactive`). */
  ask: (question: string) => Promise<string>;
  /** Receives the command's exit code. */
  done: (code: number) => void;
}

/**
 * commander's Command with the CLI's conventions: a missing required option is recorded instead of
 * failing at once, so one error can name every missing option (commander stops at the first).
 */
export class PlatformCommand extends Command {
  readonly missing: Option[] = [];

  override createCommand(name?: string): PlatformCommand {
    return new PlatformCommand(name);
  }

  // commander calls this for each missing required option before the action hooks run.
  missingMandatoryOptionValue(option: Option): void {
    this.missing.push(option);
  }
}

const promptable = new WeakSet<Command>();

/** Lets a command prompt on a TTY for missing required options (it must then ask for every undefined one). */
export function promptsForMissing<C extends Command>(cmd: C): C {
  promptable.add(cmd);
  return cmd;
}

/** Appends an Examples section to a command's help (`$ platform …` lines, with an optional `# why`). */
export function examples<C extends Command>(cmd: C, ...lines: string[]): C {
  return cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`) as C;
}

/** `-o, --output json|table` and its alias `--json` (both set `json` for the command's action). */
export function withOutput<C extends Command>(cmd: C, what = "the result"): C {
  cmd.addOption(
    new Option("-o, --output <format>", `print ${what} as a table (terminal) or JSON`)
      .choices(["table", "json"])
      .default("table"),
  );
  cmd.addOption(new Option("--json", "alias of --output json"));
  return cmd;
}

/** `--config <file>`: the platform.yaml this command reads. */
export function withConfig<C extends Command>(cmd: C, what = "platform.yaml"): C {
  return cmd.addOption(
    new Option(
      "--config <file>",
      `${what} (default: ./platform.yaml; built-in defaults when absent)`,
    ).default("platform.yaml", ""),
  ) as C;
}

/** `--root <dir>`: the workspace root other paths are relative to (the current directory by default). */
export function withRoot<C extends Command>(cmd: C, what = "workspace root that paths are relative to"): C {
  return cmd.option("--root <dir>", `${what} (default: the current directory)`) as C;
}

/** Old option → its replacement, per command: still accepted, with a warning (renames never break scripts). */
const renamed = new WeakMap<Command, Array<{ old: string; now: string }>>();

/** Keeps `--<old>` working as a hidden, deprecated alias of `--<now>` (same value syntax). */
export function deprecatedAlias<C extends Command>(cmd: C, old: string, now: string): C {
  const target = cmd.options.find((o) => o.long === `--${now}`);
  const flags = target?.required || target?.optional ? `--${old} <value>` : `--${old}`;
  const alias = new Option(flags, `deprecated: use --${now}`).hideHelp();
  if (target?.variadic || Array.isArray(target?.defaultValue))
    alias.argParser((v: string, p: string[] = []) => [...p, v]);
  cmd.addOption(alias);
  renamed.set(cmd, [...(renamed.get(cmd) ?? []), { old, now }]);
  return cmd;
}

/** The option that replaced `--<old>` on `cmd`, if `--<old>` is a deprecated alias there. */
export function replacementOf(cmd: Command, old: string): string | undefined {
  return renamed.get(cmd)?.find((r) => r.old === old)?.now;
}

/**
 * Azure sign-in options, named as azure/login names them: --tenant-id and --client-id (default
 * $AZURE_TENANT_ID / $AZURE_CLIENT_ID), and --subscription-id when the command addresses a subscription.
 */
export function withAzure<C extends Command>(cmd: C, opts: { subscription?: string } = {}): C {
  if (opts.subscription) {
    cmd.option("--subscription-id <id>", `${opts.subscription} (default: $AZURE_SUBSCRIPTION_ID)`);
    deprecatedAlias(cmd, "subscription", "subscription-id");
  }
  cmd
    .option("--tenant-id <id>", "Entra tenant ID (default: $AZURE_TENANT_ID)")
    .option(
      "--client-id <id>",
      "client ID of the app registration or managed identity (default: $AZURE_CLIENT_ID)",
    );
  return cmd;
}

/** `--config` was given on the command line (an explicit config that is missing is an error). */
export function configExplicit(cmd: Command): boolean {
  return cmd.getOptionValueSource("config") === "cli";
}

/** Help text without noise: no `(default: [])`/`false`, no machine paths, required options marked. */
const baseHelp = new Help();
function optionDescription(option: Option): string {
  const d = option.defaultValue;
  const noisy =
    d === false ||
    (Array.isArray(d) && d.length === 0) ||
    (typeof d === "string" && isAbsolute(d)) ||
    option.defaultValueDescription === "";
  const clone = Object.assign(Object.create(Object.getPrototypeOf(option)), option) as Option;
  if (noisy) clone.defaultValue = undefined;
  const text = baseHelp.optionDescription(clone);
  return option.mandatory ? `(required) ${text}` : text;
}

/**
 * Where `-` means stdin (manifests, reports): command path → argument or option (attribute) names. The
 * text is saved into a temporary folder inside the workspace, since every path must stay inside it.
 */
const STDIN_PATHS: Record<string, string[]> = {
  "policy check": ["manifests"],
  "build-scan": ["scanReport"],
  "scan gate": ["report"],
  "upgrade plan": ["description"],
  "iac check": ["paths"],
};

/** Replaces `-` in the command's stdin-capable arguments and options by a file holding stdin. */
async function stdinToFile(
  action: Command,
  cli: Cli,
  temps: string[],
  shown: Array<[string, string]>,
): Promise<void> {
  const names = STDIN_PATHS[commandPath(action)] ?? [];
  const root = (action.opts().root as string | undefined) ?? cli.cwd;
  let file: string | undefined;
  const materialise = async (ext: string) => {
    if (file) return file;
    const dir = await mkdtemp(join(root, ".platform-stdin-"));
    temps.push(dir);
    file = join(dir, `stdin${ext}`);
    await writeFile(file, await cli.stdin());
    // Results name the file relative to the root (or absolute); both read as <stdin>.
    shown.push([file, "<stdin>"], [relative(root, file), "<stdin>"]);
    return file;
  };
  const ext =
    commandPath(action) === "iac check"
      ? ".bicep"
      : commandPath(action) === "policy check"
        ? ".yaml"
        : ".json";
  for (const name of names) {
    const at = action.registeredArguments.findIndex((a) => a.name() === name);
    if (at >= 0) {
      const value = action.processedArgs[at] as string | string[] | undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (value[i] === "-") value[i] = await materialise(ext);
      } else if (value === "-") action.processedArgs[at] = await materialise(ext);
    } else if (action.getOptionValue(name) === "-") action.setOptionValue(name, await materialise(ext));
  }
}

/** Installs help formatting, the global flags' effect and the one-error check for missing required options. */
export function installConventions(
  program: PlatformCommand,
  cli: Cli,
  setLevel: (l: LogLevelName) => void,
): { cleanup: () => Promise<void>; shown: (s: string) => string } {
  const temps: string[] = [];
  const names: Array<[string, string]> = [];
  program
    .option("--verbose", "show debug logs (progress details, requests)")
    .option("--debug", "like --verbose, and print stack traces of unexpected errors")
    .configureHelp({ optionDescription, showGlobalOptions: true });
  program.hook("preAction", async (_this, action) => {
    const globals = program.opts();
    if (globals.debug) setLevel("trace");
    else if (globals.verbose) setLevel("debug");
    const o = action.opts();
    // `-o json` and `--json` are one switch; the actions read `json`.
    if (o.output === "json" || o.json) {
      action.setOptionValue("json", true);
      action.setOptionValue("output", "json");
    } else if ("output" in o) action.setOptionValue("json", false);
    // Paths are relative to the shell's current directory, also when the CLI runs in-process.
    if (action.options.some((x) => x.attributeName() === "root"))
      action.setOptionValue("root", o.root ? resolve(cli.cwd, o.root) : cli.cwd);
    cli.log.debug(`platform ${commandPath(action)} (cwd ${cli.cwd})`);
    for (const { old, now } of renamed.get(action) ?? []) {
      const key = camel(old);
      if (action.getOptionValueSource(key) !== "cli") continue;
      cli.log.warn(`--${old} is deprecated: use --${now}`);
      const value = action.getOptionValue(key);
      const into = camel(now);
      if (action.getOptionValueSource(into) !== "cli") action.setOptionValueWithSource(into, value, "cli");
      const m = (action as PlatformCommand).missing;
      const at = m.findIndex((x) => x.long === `--${now}`);
      if (at >= 0) m.splice(at, 1);
    }
    // The sign-in flags reach @platform/azure's credential as the variables it reads (never process.env).
    if (o.tenantId || o.clientId)
      cli.env = {
        ...cli.env,
        ...(o.tenantId ? { AZURE_TENANT_ID: o.tenantId } : {}),
        ...(o.clientId ? { AZURE_CLIENT_ID: o.clientId } : {}),
      };
    const missing = [...(action as PlatformCommand).missing];
    if (missing.length && !(promptable.has(action) && cli.interactive)) {
      const names = missing.map((m) => m.long ?? m.flags);
      throw new PlatformError(
        "CLI_MISSING_OPTIONS",
        `${action.name()}: missing required option${names.length > 1 ? "s" : ""} ${names.join(", ")}`,
        { category: "usage", hint: `See platform ${commandPath(action)} --help for examples.` },
      );
    }
    await stdinToFile(action, cli, temps, names);
  });
  return {
    shown: (s) => names.reduce((text, [from, to]) => text.replaceAll(from, to), s),
    cleanup: async () => {
      for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export type LogLevelName = "info" | "debug" | "trace";

/** "policy check" for the check command under policy. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
