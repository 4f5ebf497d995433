import { parseList } from "@platform/core/list";

/** A repeatable, comma-separated list option (`--policies a,b --policies c`), parsed like action list inputs. */
export const listOption = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...parseList(value),
];
