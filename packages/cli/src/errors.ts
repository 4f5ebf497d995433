import type { PlatformError } from "@platform/core";
import type { Command, Option } from "commander";
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
function optionFor(input: string, cmd?: Command): Option | undefined {
  const options = cmd ? [...cmd.options, ...(cmd.parent?.options ?? [])] : [];
  const name = (cmd && replacementOf(cmd, input)) ?? FLAG_FOR_INPUT[input]?.slice(2) ?? input;
  return options.find((o) => o.long === `--${name}` && !o.hidden);
}

/** The flag that stands for `input` on `cmd`, if it has one. */
export function flagFor(input: string, cmd?: Command): string | undefined {
  if (!cmd) return FLAG_FOR_INPUT[input];
  return optionFor(input, cmd)?.long;
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
  // The file:line: prefix is a path, never rewritten.
  const prefix = err.file ? text.slice(0, text.indexOf(err.file) + err.file.length) : "";
  const flag = (m: string, name: string) => flagFor(name, cmd) ?? m;
  // "scanner: defender" is an input setting only when the value is one of the option's choices.
  const setting = (m: string, name: string, value: string) => {
    const o = optionFor(name, cmd);
    return o?.long && o.argChoices?.includes(value) ? `${o.long} ${value}` : m;
  };
  // Messages and hints written for the action name inputs ("the tenant-id input", "`from`",
  // "scanner: defender", "no scan-report"): from the terminal they name the flag.
  return (
    prefix +
    text
      .slice(prefix.length)
      .replace(/\bthe ([a-z][a-z0-9-]*) input\b/g, flag)
      .replace(/`([a-z][a-z0-9-]*)`/g, flag)
      .replace(/(?<![-\w/.])([a-z][a-z0-9]*(?:-[a-z0-9]+)*): ([\w.-]+)/g, setting)
      .replace(/(?<![-\w/.[])([a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?![-\w/.\]])/g, flag)
  );
}
