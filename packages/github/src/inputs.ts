import { resolve } from "node:path";
import { loadConfig, type PlatformConfig, PlatformError, parseList } from "@platform/core";
import { z } from "zod";

/** The environment variable GitHub sets for an input: `INPUT_` + name upper-cased, spaces to `_`. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** Raw inputs: undefined when the variable is unset, "" when it is set but empty. */
export function readRawInputs(names: string[], env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, env[inputEnvName(n)]]));
}

/** An optional string input: unset and empty both mean "not given". */
export const optionalString = () =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v),
    z.string().optional(),
  );

/**
 * azure/login's sign-in inputs, for every action that reaches Azure: `tenant-id` and `client-id`
 * (default $AZURE_TENANT_ID / $AZURE_CLIENT_ID, as azure/login sets them).
 */
export const azureSignInInputs = () => ({ "tenant-id": optionalString(), "client-id": optionalString() });

/** The environment @platform/azure's credential reads, with the tenant-id / client-id inputs in it. */
export function withAzureSignIn(
  env: NodeJS.ProcessEnv,
  i: { tenantId?: string; clientId?: string },
): NodeJS.ProcessEnv {
  if (!i.tenantId && !i.clientId) return env;
  return {
    ...env,
    ...(i.tenantId ? { AZURE_TENANT_ID: i.tenantId } : {}),
    ...(i.clientId ? { AZURE_CLIENT_ID: i.clientId } : {}),
  };
}

/** A YAML 1.2 core-schema boolean, as GitHub's `getBooleanInput` accepts (surrounding whitespace trimmed). */
export const booleanInput = (fallback: boolean) =>
  z.preprocess(
    (v) => {
      const s = typeof v === "string" ? v.trim() : v;
      return s === undefined || s === "" ? fallback : s;
    },
    z.union(
      [
        z.boolean(),
        z
          .enum(["true", "True", "TRUE", "false", "False", "FALSE"])
          .transform((s) => s.toLowerCase() === "true"),
      ],
      {
        error: "must be true or false",
      },
    ),
  );

/** The `summary` input every action has: false writes no job summary (outputs and annotations are unchanged). */
export const summaryInput = () => booleanInput(true);

/** A list input parsed with the one list grammar; `comma` says whether commas separate items. */
export const listInput = (opts: { comma: boolean }) =>
  z.preprocess((v) => (typeof v === "string" ? parseList(v, opts) : (v ?? [])), z.array(z.string()));

/** An enum input with a default when unset or empty; the error lists the allowed values. */
export const enumInput = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.preprocess(
    (v) => (v === undefined || v === "" ? fallback : typeof v === "string" ? v.trim().toLowerCase() : v),
    z.enum(values, { error: `must be one of: ${values.join(", ")}` }),
  );

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
    const shown = raw[name];
    throw new PlatformError(
      "INPUT_INVALID",
      `input "${name}" ${issue.message}${shown !== undefined && shown.length < 200 ? ` (got "${shown}")` : ""}`,
      {
        input: name,
        hint: `Set \`${name}\` in the step's \`with:\` block to a valid value; see the action's README.`,
      },
    );
  }
  return Object.fromEntries(
    Object.entries(result.data as Record<string, unknown>).map(([k, v]) => [camel(k), v]),
  ) as CamelKeys<z.output<S>>;
}

/**
 * platform.yaml for an action: the `config` input resolved against the workspace (an absolute path is
 * kept), built-in defaults when the default file is absent, an error when an explicitly named one is.
 */
export function loadWorkspaceConfig(
  workspace: string,
  configInput: string | undefined,
): Promise<{ config: PlatformConfig; source: string | undefined }> {
  const name = configInput ?? "platform.yaml";
  return loadConfig(resolve(workspace, name), { explicit: name !== "platform.yaml" });
}
