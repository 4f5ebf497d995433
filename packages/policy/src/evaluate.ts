import { type PlatformConfig, tenancySettings } from "@platform/core";
import { renderContext } from "./admission/context.ts";
import { admittedObject } from "./admission/defaults.ts";
import { createRequest, inDefaultNamespace } from "./admission/request.ts";
import { renderFacts } from "./builtin/render.ts";
import { BUILTIN_RULES, type BuiltinRule } from "./builtin/rules.ts";
import { type CelEngine, type CelProgram, createCelEngine } from "./cel/engine.ts";
import { bySource } from "./manifests.ts";
import { isClusterScoped, podTarget } from "./podspec.ts";
import { type CompiledPolicy, type EvalTarget, rowFor } from "./target.ts";
import type { LoadedObject, PolicyResult } from "./types.ts";

export { type CompiledPolicy, type EvalTarget, rowFor } from "./target.ts";

export interface BuiltinParams {
  trustedRegistries: string[];
  allowedCapabilities: string[];
  teamNamespaces: string[];
  /**
   * Callers platform.yaml declares (teams[].services[].calledBy, and the platform Gateway for exposed
   * services) as `<callee namespace>|<caller namespace>/<ServiceAccount>`: PLAT022 does not report them.
   */
  declaredCallers: string[];
  /** platform.yaml tenancy.mesh: which mesh's objects the mesh rules look for. */
  mesh: "istio" | "cilium";
}

/** The built-in rules' parameters from platform.yaml. */
export function builtinParams(config: PlatformConfig): BuiltinParams {
  return {
    trustedRegistries: config.registries.trusted.map((t) => t.toLowerCase().replace(/\/+$/, "")),
    allowedCapabilities: config.policy.allowedCapabilities,
    teamNamespaces: config.teams.map((t) => t.namespace),
    declaredCallers: declaredCallers(config),
    mesh: tenancySettings(config).mesh,
  };
}

// A caller is `svc` (same team) or `team/svc`; each service runs as the ServiceAccount of its name, and the
// Gateway as Istio's auto-deployed `<gateway>-istio` (what `platform team render` writes into the ALLOWs).
function declaredCallers(config: PlatformConfig): string[] {
  const gateway = tenancySettings(config).gateway;
  const out = new Set<string>();
  for (const t of config.teams)
    for (const svc of t.services ?? []) {
      for (const c of svc.calledBy ?? []) {
        const [teamName, name] = c.includes("/") ? c.split("/", 2) : [t.name, c];
        const caller = config.teams.find((x) => x.name === teamName);
        if (caller && name) out.add(`${t.namespace}|${caller.namespace}/${name}`);
      }
      if (svc.expose) out.add(`${t.namespace}|${gateway.namespace}/${gateway.name}-istio`);
    }
  return [...out].sort();
}

/** Compiles the built-in guardrails (minus disabled ones) into policies on one engine. */
export function compileBuiltins(
  params: BuiltinParams,
  opts: { disabled?: string[]; engine?: CelEngine; rules?: BuiltinRule[] } = {},
): CompiledPolicy[] {
  const engine = opts.engine ?? createCelEngine();
  const disabled = new Set(opts.disabled ?? []);
  return (opts.rules ?? BUILTIN_RULES)
    .filter(
      (r) => !disabled.has(r.id) && !disabled.has(r.name) && (!r.meshes || r.meshes.includes(params.mesh)),
    )
    .map((rule) => compileRule(rule, params, engine));
}

function compileRule(rule: BuiltinRule, params: BuiltinParams, engine: CelEngine): CompiledPolicy {
  const check = engine.compile(rule.expression, { policy: rule.id, field: "expression" });
  const message = engine.compile(rule.messageExpression, { policy: rule.id, field: "messageExpression" });
  const kinds = rule.kinds ? new Set(rule.kinds) : undefined;
  const containerTypes = rule.containerTypes ?? ["containers", "initContainers", "ephemeralContainers"];
  const policyId = `${rule.id}/${rule.name}`;

  return {
    id: policyId,
    kind: "builtin",
    title: rule.title,
    evaluate(t) {
      // What admission would judge: the defaulted object (the same paths as the manifest, plus defaults).
      const obj = t.request.object ?? t.loaded.obj;
      const base = { ...rowFor(t, policyId, rule.severity), title: rule.title };
      const request = {
        namespace: t.namespace,
        name: obj.metadata?.name ?? "",
        operation: "CREATE",
        kind: { kind: obj.kind },
      };
      const vars: Record<string, unknown> = {
        object: obj,
        request,
        clusterScoped: t.clusterScoped,
        params,
        serviceAccounts: t.serviceAccounts,
        render: renderFacts(t.context),
      };
      if (rule.scope === "object") {
        if (kinds && !kinds.has(obj.kind)) return [];
        return [judge(check, message, vars, rule, base, t, [], obj as Record<string, unknown>)];
      }
      const pod = podTarget(obj);
      if (!pod) return [];
      vars.podSpec = pod.spec;
      vars.podMeta = pod.meta;
      if (rule.scope === "pod") return [judge(check, message, vars, rule, base, t, pod.specPath, pod.spec)];
      const out: PolicyResult[] = [];
      let any = false;
      for (const type of containerTypes) {
        const list = pod.spec[type];
        if (!Array.isArray(list)) continue;
        list.forEach((container, i) => {
          any = true;
          vars.container = container;
          vars.containerType = type;
          const r = judge(
            check,
            message,
            vars,
            rule,
            base,
            t,
            [...pod.specPath, type, i],
            container as Record<string, unknown>,
          );
          if (r.verdict !== "pass") out.push(r);
        });
      }
      if (out.length === 0 && any) out.push({ ...base, verdict: "pass", message: "" });
      return out;
    },
  };
}

function judge(
  check: CelProgram,
  message: CelProgram,
  vars: Record<string, unknown>,
  rule: BuiltinRule,
  base: Omit<PolicyResult, "verdict" | "message">,
  t: EvalTarget,
  targetPath: Array<string | number>,
  target: Record<string, unknown>,
): PolicyResult {
  let ok: unknown;
  try {
    ok = check.eval(vars);
  } catch (err) {
    return {
      ...base,
      verdict: "error",
      message: `could not evaluate ${rule.id} (${rule.title}): ${firstLine(err)}. A field likely has the wrong type (a quoted number, a list where a map belongs); the API server would reject the object too.`,
    };
  }
  if (ok === true) return { ...base, verdict: "pass", message: "" };
  if (ok !== false)
    return { ...base, verdict: "error", message: `${rule.id} expression returned ${String(ok)}, not a bool` };
  let text: string;
  try {
    const m = message.eval(vars);
    text = typeof m === "string" && m.trim() !== "" ? m.trim() : rule.title;
  } catch {
    // As the exported policy does: a failing messageExpression falls back to the static message (the
    // title and the fix); the verdict stands.
    text = rule.title;
  }
  // Findings point at what the manifest wrote: a field only the defaults added has no line of its own.
  const field = pickField(resolveAt(t.loaded.obj, targetPath) ?? target, rule.fields);
  const pos = t.loaded.locate([...targetPath, ...field]);
  return {
    ...base,
    verdict: rule.severity === "warning" ? "warn" : "fail",
    message: `${text}. ${rule.fix}`,
    field: [...targetPath, ...field]
      .map((p) => (typeof p === "number" ? `[${p}]` : p))
      .join(".")
      .replace(/\.\[/g, "["),
    ...(pos ? { file: pos.file ?? base.file, line: pos.line, column: pos.column } : {}),
  };
}

/** The node at a path of the manifest, if it is an object. */
function resolveAt(root: unknown, path: Array<string | number>): Record<string, unknown> | undefined {
  let node = root;
  for (const p of path)
    node = node && typeof node === "object" ? (node as Record<string | number, unknown>)[p] : undefined;
  return node && typeof node === "object" && !Array.isArray(node)
    ? (node as Record<string, unknown>)
    : undefined;
}

/** The first candidate path that exists in the target; `[*]` selects the first element that has the rest. */
function pickField(target: Record<string, unknown>, candidates: string[]): Array<string | number> {
  for (const c of candidates) {
    const found = resolvePath(target, c.split("."));
    if (found) return found;
  }
  return [];
}

function resolvePath(node: unknown, parts: string[]): Array<string | number> | undefined {
  if (parts.length === 0) return [];
  const [head, ...rest] = parts as [string, ...string[]];
  const star = head.endsWith("[*]");
  const key = star ? head.slice(0, -3) : head;
  if (!node || typeof node !== "object" || !(key in node)) return undefined;
  const child = (node as Record<string, unknown>)[key];
  if (!star) {
    const tail = resolvePath(child, rest);
    return tail ? [key, ...tail] : undefined;
  }
  if (!Array.isArray(child)) return undefined;
  for (let i = 0; i < child.length; i++) {
    const tail = resolvePath(child[i], rest);
    if (tail) return [key, i, ...tail];
  }
  return undefined;
}

/**
 * Runs every policy on every object; the built-in guardrails skip the excluded namespaces (the cluster's own
 * policies carry their own exemptions). `extra` objects (policy params, suite inventories) are visible to
 * lookups but are not judged themselves.
 */
export function evaluateAll(
  objects: LoadedObject[],
  policies: CompiledPolicy[],
  opts: { excludedNamespaces?: string[]; extra?: LoadedObject[]; context?: LoadedObject[] } = {},
): PolicyResult[] {
  const excluded = new Set(opts.excludedNamespaces ?? []);
  const serviceAccounts: Record<string, unknown> = {};
  // `context`: objects of renders not judged in this run (changed-only, shards), seen as if rendered.
  for (const o of [...(opts.context ?? []), ...objects]) {
    if (o.obj.kind === "ServiceAccount" && o.obj.apiVersion === "v1")
      serviceAccounts[`${o.obj.metadata.namespace ?? ""}/${o.obj.metadata.name}`] = o.obj;
  }
  // In the full render's order: rules that list objects (a namespace's workloads) name them in that order.
  const rendered = opts.context ? [...opts.context, ...objects].sort(bySource) : objects;
  const context = renderContext([...rendered, ...(opts.extra ?? [])]);
  const results: PolicyResult[] = [];
  for (const loaded of objects) {
    const namespace = loaded.obj.metadata?.namespace ?? "";
    const clusterScoped = isClusterScoped(loaded.obj);
    const target: EvalTarget = {
      loaded,
      namespace,
      clusterScoped,
      serviceAccounts,
      // The cluster judges the object after decoding and defaulting it, in the namespace it is created in.
      request: inDefaultNamespace(createRequest(admittedObject(loaded.obj)), clusterScoped),
      context,
    };
    // platform.yaml's excludedNamespaces exempt system namespaces from the guardrails only.
    const guardrails = !excluded.has(namespace);
    for (const p of policies)
      if (guardrails || p.kind !== "builtin") for (const r of p.evaluate(target)) results.push(r);
  }
  return results;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
