import type { PlatformError } from "@platform/core";
import type { Command } from "commander";
import { replacementOf } from "./cli.ts";

/**
 * Action inputs whose CLI option has another name. A library error names the action input it blames;
 * from the terminal it must name the flag the user typed instead.
 */
const FLAG_FOR_INPUT: Record<string, string> = {
  "subscription-id": "--subscription",
  subscriptions: "--subscription",
  "tenant-id": "--tenant-id",
  "client-id": "--client-id",
};

/** The option that stands for `input` on `cmd` (by long name, then by the alias table). */
export function flagFor(input: string, cmd?: Command): string | undefined {
  const replaced = cmd && replacementOf(cmd, input);
  if (replaced) return `--${replaced}`;
  const options = cmd ? [...cmd.options, ...(cmd.parent?.options ?? [])] : [];
  const direct = options.find((o) => o.long === `--${input}` && !o.hidden);
  if (direct) return direct.long;
  const alias = FLAG_FOR_INPUT[input];
  if (alias && (!cmd || options.some((o) => o.long === alias))) return alias;
  return undefined;
}

/** describe() for a terminal: `[option --flag]` instead of `[input: name]`, and flags wherever the text names inputs. */
export function describeForCli(err: PlatformError, cmd?: Command): string {
  let text = err.describe();
  if (err.input) {
    const flag = flagFor(err.input, cmd);
    const argument = !flag && cmd?.registeredArguments.some((a) => a.name() === err.input);
    const at = flag ? ` [option ${flag}]` : argument ? ` [argument <${err.input}>]` : "";
    text = text.replace(` [input: ${err.input}]`, at);
  }
  const flag = (m: string, name: string) => flagFor(name, cmd) ?? m;
  const setting = (m: string, name: string, value: string) => {
    const f = flagFor(name, cmd);
    return f ? `${f} ${value}` : m;
  };
  // Messages and hints written for the action name inputs ("the tenant-id input", "`from`",
  // "scanner: defender", "no scan-report"): from the terminal they name the flag.
  return text
    .replace(/\bthe ([a-z][a-z0-9-]*) input\b/g, flag)
    .replace(/`([a-z][a-z0-9-]*)`/g, flag)
    .replace(/(?<![-\w])([a-z][a-z0-9]*(?:-[a-z0-9]+)*): ([\w.-]+)/g, setting)
    .replace(/(?<![-\w/.[])([a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?![-\w/.\]])/g, flag);
}
