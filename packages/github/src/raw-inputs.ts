// Reading inputs as the runner passes them, before any schema: what runAction does at start-up. Nothing here
// loads zod (its types only), so a step that lacks a required input fails before zod, the input schema and
// the run's code are parsed (issue 18); the schema builders are in inputs.ts.
import { PlatformError } from "@platform/core/errors";
import type { z } from "zod";

/** The environment variable GitHub sets for an input: `INPUT_` + name upper-cased, spaces to `_`. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** Raw inputs: undefined when the variable is unset, "" when it is set but empty. */
export function readRawInputs(names: string[], env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, env[inputEnvName(n)]]));
}

/** An input's value trimmed, or undefined when unset, empty or blank (optionalString's "not given"). */
export function givenInput(name: string, env: NodeJS.ProcessEnv): string | undefined {
  return env[inputEnvName(name)]?.trim() || undefined;
}

const CORE_BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};

/**
 * A YAML 1.2 core-schema boolean, as GitHub's `getBooleanInput` accepts (surrounding whitespace trimmed):
 * the fallback when unset or empty, undefined when the value is not one of the six spellings.
 */
export function coreBoolean(raw: string | undefined, fallback: boolean): boolean | undefined {
  const s = raw?.trim();
  return s === undefined || s === "" ? fallback : CORE_BOOLEANS[s];
}

/** The message of a missing required input: `what` when unset, "is required" when set but blank. */
export function requiredMessage(what?: string): string {
  return what === undefined ? "is required" : `is required: ${what}`;
}

/** The one error for a bad input: its name, the problem, the value given (when short), how to fix it. */
export function inputError(name: string, message: string, shown: string | undefined): PlatformError {
  return new PlatformError(
    "INPUT_INVALID",
    `input "${name}" ${message}${shown !== undefined && shown.length < 200 ? ` (got "${shown}")` : ""}`,
    {
      input: name,
      hint: `Set \`${name}\` in the step's \`with:\` block to a valid value; see the action's README.`,
    },
  );
}

/**
 * Fails on the first required input that is unset or blank, with the message the schema's `requiredString`
 * gives: the check a run cannot start without, done before the schema loads.
 */
export function checkRequired(
  required: Readonly<Record<string, string | undefined>>,
  env: NodeJS.ProcessEnv,
): void {
  for (const [name, what] of Object.entries(required)) {
    if (what === undefined) continue;
    const raw = env[inputEnvName(name)];
    if (raw === undefined) throw inputError(name, requiredMessage(what), undefined);
    if (raw.trim() === "") throw inputError(name, requiredMessage(), raw);
  }
}

type KebabToCamel<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<KebabToCamel<T>>}`
  : S;
export type CamelKeys<T> = { [K in keyof T as K extends string ? KebabToCamel<K> : K]: T[K] };

export function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Validates raw inputs with the schema; the first problem becomes a PlatformError naming the input. */
export function parseInputs<S extends z.ZodObject>(
  schema: S,
  raw: Record<string, string | undefined>,
): CamelKeys<z.output<S>> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? "");
    throw inputError(name, issue.message, raw[name]);
  }
  return Object.fromEntries(
    Object.entries(result.data as Record<string, unknown>).map(([k, v]) => [camel(k), v]),
  ) as CamelKeys<z.output<S>>;
}
