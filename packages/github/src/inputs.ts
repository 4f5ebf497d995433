// The zod schema builders every action's inputs.ts uses (loaded once the required inputs are given: see
// raw-inputs.ts, which runAction uses before the schema loads).
import { resolve } from "node:path";
import { loadConfig, type PlatformConfig, parseList } from "@platform/core";
import { z } from "zod";
import { coreBoolean, requiredMessage } from "./raw-inputs.ts";

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
    (v) => (v === undefined || typeof v === "string" ? (coreBoolean(v, fallback) ?? v) : v),
    z.boolean({ error: "must be true or false" }),
  );

/**
 * A required string input, trimmed: `what` completes the message when it is unset ("is required: the image
 * to sign, by digest"). runAction checks the same before the schema loads (checkRequired, the same words).
 */
export const requiredString = (what: string) =>
  z
    .string({ error: requiredMessage(what) })
    .trim()
    .min(1, requiredMessage());

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
