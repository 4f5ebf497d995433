// Azure Policy for AKS presets: the Gatekeeper constraints the built-in pod security initiatives and the
// allowed-images definition install, on our own CEL re-implementations of their templates
// (packages/policy/presets/azure/*.yaml, carried into the bundles by presets/azure/index.ts).
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type PlatformConfig, PlatformError, parseYamlStream, type YamlStream } from "@platform/core";
import { RE2JS } from "re2js";
import { AZURE_PRESET_FILES } from "../presets/azure/index.ts";
import type { KubeObject, LoadedObject } from "./types.ts";

/** An Azure Policy effect as the presets accept it; Audit → dryrun, Deny → deny, Disabled → no constraint. */
export type PresetEffect = "audit" | "deny" | "disabled";

export interface PresetOptions {
  /** The initiative's `effect` for every control (default: the preset's, Audit or Deny). */
  effect?: PresetEffect;
  /** Initiative (or definition) parameters by their Azure names, e.g. excludedNamespaces, allowedCapabilities. */
  parameters?: Record<string, unknown>;
  /** Per-control effects by policyDefinitionReferenceId (an assignment's policyEffect overrides). */
  controlEffects?: Record<string, PresetEffect>;
  /** platform.yaml registries.trusted: the default allowedContainerImagesRegex of azure-allowed-images. */
  trustedRegistries?: readonly string[];
}

interface PresetControl {
  referenceId: string;
  policyDefinitionId: string;
  definitionVersion: string;
  template: string;
  values: Record<string, unknown>;
}

interface PresetDefinition {
  name: string;
  description: string;
  policySetDefinitionId?: string;
  policyDefinitionId?: string;
  version: string;
  parameters: Record<string, unknown>;
  controls: PresetControl[];
}

interface ParsedPreset {
  def: PresetDefinition;
  stream: YamlStream;
  doc: YamlStream["docs"][number];
}

const PRESET_FILES = [
  "azure-pod-security-baseline.yaml",
  "azure-pod-security-restricted.yaml",
  "azure-allowed-images.yaml",
];
/** The Pod, and the workload kinds whose pod template becomes Pods the cluster will judge. */
const MATCH_KINDS = [
  { apiGroups: [""], kinds: ["Pod", "ReplicationController"] },
  { apiGroups: ["apps"], kinds: ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"] },
  { apiGroups: ["batch"], kinds: ["Job", "CronJob"] },
];

function presetText(file: string): string {
  const text = AZURE_PRESET_FILES[file];
  if (text === undefined) throw new Error(`preset file ${file} is missing from presets/azure/index.ts`);
  return text;
}

function parsePreset(file: string): ParsedPreset {
  const stream = parseYamlStream(presetText(file), `presets/azure/${file}`);
  const doc = stream.docs[0];
  if (!doc || doc.errors.length) throw new Error(`presets/azure/${file} is not valid YAML`);
  return { def: doc.value as PresetDefinition, stream, doc };
}

/** The presets `policies` accepts, with what each checks. */
export const PRESETS: ReadonlyArray<{ name: string; description: string }> = PRESET_FILES.map((f) => {
  const { def } = parsePreset(f);
  return { name: def.name, description: def.description.trim() };
});

function findPreset(name: string): ParsedPreset | undefined {
  const file = PRESET_FILES.find((f) => f === `${name}.yaml`);
  return file ? parsePreset(file) : undefined;
}

/** Azure accepts Audit/audit, Deny/deny, Disabled/disabled; anything else is a usage error. */
export function parseEffect(value: unknown, input = "policies"): PresetEffect {
  const v = typeof value === "string" ? value.toLowerCase() : "";
  if (v === "audit" || v === "deny" || v === "disabled") return v;
  throw new PlatformError(
    "POLICY_PRESET_INVALID",
    `effect ${JSON.stringify(value)} is not Audit, Deny or Disabled`,
    {
      input,
      hint: "Use audit (reported as warnings, Gatekeeper dryrun), deny (failures) or disabled.",
    },
  );
}

/** JSON numbers become bigints where they are integers, as the YAML loader does, so CEL sees ints. */
function ints(v: unknown): unknown {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(ints);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, ints(x)]));
  return v;
}

const PARAMETER_REF = /^\[parameters\('([A-Za-z0-9_]+)'\)(?:\.([A-Za-z0-9_]+))?\]$/;

/** Resolves a control value: "[parameters('x')]" / "[parameters('x').y]" read the initiative's parameters. */
function resolveValue(v: unknown, params: Record<string, unknown>): unknown {
  if (typeof v !== "string") return v;
  const m = PARAMETER_REF.exec(v);
  if (!m) return v;
  const value = params[m[1]!];
  return m[2] ? (value as Record<string, unknown> | null | undefined)?.[m[2]] : value;
}

/**
 * The RE2 pattern azure-allowed-images uses when no allowedContainerImagesRegex is given: each trusted
 * registry host or host/path prefix, dots escaped and trailing slashes removed, followed by `/` and at
 * least one character, anchored at both ends — e.g. [acr.azurecr.io, mcr.microsoft.com/oss] →
 * ^(acr\.azurecr\.io|mcr\.microsoft\.com/oss)/.+$
 */
export function trustedRegistriesRegex(trusted: readonly string[]): string {
  const entries = trusted.map((t) => t.replace(/\/+$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return `^(${entries.join("|")})/.+$`;
}

function checkParameters(p: ParsedPreset, given: Record<string, unknown>): void {
  for (const key of Object.keys(given)) {
    if (!(key in p.def.parameters))
      throw new PlatformError("POLICY_PRESET_INVALID", `${p.def.name} has no parameter "${key}"`, {
        input: "policies",
        hint: `Its parameters are ${Object.keys(p.def.parameters).join(", ")} (Azure's names).`,
      });
  }
}

/**
 * The documents a preset installs: one ConstraintTemplate per control (our CEL re-implementation) and one
 * constraint per enabled control, with enforcementAction mapped from the effect (Audit → dryrun, Deny →
 * deny; Disabled controls get no constraint). Constraints match Pods and the workload kinds whose pod
 * template the cluster will judge when the controller creates the Pods.
 */
export function presetDocuments(name: string, opts: PresetOptions = {}): LoadedObject[] {
  const preset = findPreset(name);
  if (!preset)
    throw new PlatformError("POLICY_UNKNOWN", `unknown preset "${name}"`, {
      input: "policies",
      hint: `Presets: ${PRESETS.map((p) => p.name).join(", ")}.`,
    });
  const given = opts.parameters ?? {};
  checkParameters(preset, given);
  const params: Record<string, unknown> = {
    ...preset.def.parameters,
    ...(ints(given) as Record<string, unknown>),
  };
  if ("allowedContainerImagesRegex" in params) {
    if (params.allowedContainerImagesRegex == null && opts.trustedRegistries?.length)
      params.allowedContainerImagesRegex = trustedRegistriesRegex(opts.trustedRegistries);
    const regex = params.allowedContainerImagesRegex;
    if (typeof regex !== "string" || regex === "")
      throw new PlatformError("POLICY_PRESET_INVALID", `${name} needs allowedContainerImagesRegex`, {
        input: "policies",
        hint: "List your registries under registries.trusted in platform.yaml (the regex is built from them), or pass allowedContainerImagesRegex as in the Azure Policy assignment.",
      });
    try {
      RE2JS.compile(regex);
    } catch (err) {
      throw new PlatformError(
        "POLICY_PRESET_INVALID",
        `${name}: allowedContainerImagesRegex ${JSON.stringify(regex)} is not valid RE2: ${err instanceof Error ? err.message : String(err)}`,
        {
          input: "policies",
          hint: "Azure evaluates the pattern with Go's regexp (RE2): no lookaround or backreferences.",
          cause: err,
        },
      );
    }
  }
  const effect = opts.effect ?? parseEffect(params.effect);
  const source = `preset:${preset.def.name}`;
  const out: LoadedObject[] = [];
  const templates = new Set<string>();
  preset.def.controls.forEach((control, i) => {
    const controlEffect = opts.controlEffects?.[control.referenceId] ?? effect;
    if (controlEffect === "disabled") return;
    const template = templateObject(control.template);
    const kind = (template.obj.spec as { crd: { spec: { names: { kind: string } } } }).crd.spec.names.kind;
    if (!templates.has(control.template)) {
      templates.add(control.template);
      out.push(template);
    }
    const match: Record<string, unknown> = {
      kinds: MATCH_KINDS.map((k) => ({ apiGroups: [...k.apiGroups], kinds: [...k.kinds] })),
      excludedNamespaces: params.excludedNamespaces ?? [],
    };
    if (Array.isArray(params.namespaces) && params.namespaces.length) match.namespaces = params.namespaces;
    const selector = params.labelSelector as Record<string, unknown> | undefined;
    if (selector && Object.keys(selector).length) match.labelSelector = selector;
    const parameters = Object.fromEntries(
      Object.entries(control.values).map(([k, v]) => [k, resolveValue(v, params)]),
    );
    const constraint: KubeObject = {
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind,
      metadata: {
        name: `${preset.def.name}-${kebab(control.referenceId)}`,
        labels: { "platform.dev/preset": preset.def.name },
        annotations: {
          "azure-policy-definition-id": control.policyDefinitionId,
          "azure-policy-definition-reference-id": control.referenceId,
        },
      },
      spec: { enforcementAction: controlEffect === "deny" ? "deny" : "dryrun", match, parameters },
    };
    const pos = preset.stream.position(preset.doc, ["controls", i]);
    out.push({ obj: constraint, source: { file: source, line: pos.line }, locate: () => undefined });
  });
  return out;
}

function templateObject(file: string): LoadedObject {
  const stream = parseYamlStream(presetText(file), `presets/azure/${file}`);
  const doc = stream.docs[0];
  if (!doc || doc.errors.length) throw new Error(`presets/azure/${file} is not valid YAML`);
  return {
    obj: doc.value as KubeObject,
    source: { file: `preset:${file}`, line: doc.line },
    locate: (p) => stream.position(doc, p),
  };
}

function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/** The GUID at the end of an Azure resource id, lower case. */
function guid(id: unknown): string {
  return typeof id === "string" ? (id.split("/").at(-1) ?? "").toLowerCase() : "";
}

interface Assignment {
  policyDefinitionId?: string;
  enforcementMode?: string;
  parameters?: Record<string, { value?: unknown }>;
  overrides?: Array<{
    kind?: string;
    value?: string;
    selectors?: Array<{ kind?: string; in?: string[]; notIn?: string[] }>;
  }>;
}

/**
 * Reads an exported Azure Policy assignment (`az policy assignment show`, or an ARM resource with
 * `properties`) of one of the presets' initiatives/definitions: its parameters, its policyEffect overrides
 * per policyDefinitionReferenceId, and enforcementMode DoNotEnforce (nothing is denied: every effect that
 * is not Disabled becomes Audit). Returns undefined when the JSON is not an assignment.
 */
export function presetFromAssignment(
  json: unknown,
  file: string,
  opts: Pick<PresetOptions, "trustedRegistries"> = {},
): LoadedObject[] | undefined {
  const raw = json as { properties?: Assignment } & Assignment;
  const a: Assignment | undefined = raw?.properties?.policyDefinitionId ? raw.properties : raw;
  if (!a || typeof a.policyDefinitionId !== "string") return undefined;
  const id = guid(a.policyDefinitionId);
  const preset = PRESET_FILES.map(parsePreset).find(
    (p) => guid(p.def.policySetDefinitionId ?? p.def.policyDefinitionId) === id,
  );
  if (!preset)
    throw new PlatformError(
      "POLICY_UNKNOWN",
      `${file} assigns ${a.policyDefinitionId}, which is not one of the Azure presets`,
      {
        input: "policies",
        file,
        hint: `Supported: ${PRESET_FILES.map(parsePreset)
          .map((p) => `${p.def.name} (${guid(p.def.policySetDefinitionId ?? p.def.policyDefinitionId)})`)
          .join(", ")}.`,
      },
    );
  const parameters = Object.fromEntries(
    Object.entries(a.parameters ?? {}).map(([k, v]) => [k, v && typeof v === "object" ? v.value : v]),
  );
  const { effect: rawEffect, ...rest } = parameters;
  let effect = rawEffect === undefined ? undefined : parseEffect(rawEffect);
  const controlEffects: Record<string, PresetEffect> = {};
  const refs = preset.def.controls.map((c) => c.referenceId);
  for (const o of a.overrides ?? []) {
    if (o.kind !== "policyEffect" || o.value === undefined) continue;
    const value = parseEffect(o.value);
    let selected = refs;
    for (const s of o.selectors ?? []) {
      if (s.kind !== "policyDefinitionReferenceId") continue;
      if (s.in) selected = selected.filter((r) => s.in!.includes(r));
      if (s.notIn) selected = selected.filter((r) => !s.notIn!.includes(r));
    }
    for (const r of selected) controlEffects[r] = value;
  }
  if (a.enforcementMode === "DoNotEnforce") {
    if (effect === "deny" || (effect === undefined && parseEffect(preset.def.parameters.effect) === "deny"))
      effect = "audit";
    for (const [r, e] of Object.entries(controlEffects)) if (e === "deny") controlEffects[r] = "audit";
  }
  return presetDocuments(preset.def.name, {
    effect,
    parameters: rest,
    controlEffects,
    trustedRegistries: opts.trustedRegistries,
  }).map((o) => (o.obj.kind === "ConstraintTemplate" ? o : { ...o, source: { file, line: 1 } }));
}

/**
 * Splits `policies` entries into preset documents and the rest: a preset name (`azure-pod-security-baseline`),
 * a name with an effect (`azure-pod-security-restricted:deny`), or a path to an exported Azure Policy
 * assignment (.json) of one of the presets. Templates shared by several presets are returned once.
 */
export async function selectPresets(
  entries: string[],
  ctx: { config: PlatformConfig; root: string },
): Promise<{ objects: LoadedObject[]; rest: string[] }> {
  const objects: LoadedObject[] = [];
  const rest: string[] = [];
  const trustedRegistries = ctx.config.registries.trusted;
  for (const entry of entries) {
    const [name, effect, extra] = entry.split(":");
    if (name && findPreset(name) && extra === undefined) {
      objects.push(
        ...presetDocuments(name, {
          effect: effect === undefined ? undefined : parseEffect(effect),
          trustedRegistries,
        }),
      );
      continue;
    }
    if (entry.toLowerCase().endsWith(".json")) {
      let text: string | undefined;
      try {
        text = await readFile(resolve(ctx.root, entry), "utf8");
      } catch {
        // Not readable here: left to the path loader, which reports missing files.
      }
      if (text !== undefined) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const docs =
          json === undefined ? undefined : presetFromAssignment(json, entry, { trustedRegistries });
        if (docs) {
          objects.push(...docs);
          continue;
        }
      }
    }
    rest.push(entry);
  }
  const seen = new Set<string>();
  return {
    objects: objects.filter((o) => {
      const key = `${o.obj.kind}/${o.obj.metadata?.name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
    rest,
  };
}
