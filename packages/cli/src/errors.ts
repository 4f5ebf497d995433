import type { PlatformError } from "@platform/core";
import type { Command } from "commander";

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
  const options = cmd ? [...cmd.options, ...(cmd.parent?.options ?? [])] : [];
  const direct = options.find((o) => o.long === `--${input}`);
  if (direct) return direct.long;
  const alias = FLAG_FOR_INPUT[input];
  if (alias && (!cmd || options.some((o) => o.long === alias))) return alias;
  return undefined;
}

/** describe() for a terminal: `[option --flag]` instead of `[input: name]`; an input no flag has is left out. */
export function describeForCli(err: PlatformError, cmd?: Command): string {
  const text = err.describe();
  if (!err.input) return text;
  const flag = flagFor(err.input, cmd);
  const argument = !flag && cmd?.registeredArguments.some((a) => a.name() === err.input);
  const at = flag ? ` [option ${flag}]` : argument ? ` [argument <${err.input}>]` : "";
  return text.replace(` [input: ${err.input}]`, at);
}
