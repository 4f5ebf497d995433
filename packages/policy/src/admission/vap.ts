import { PlatformError } from "@platform/core/errors";
import type { CelEngine } from "../cel/engine.ts";
import { type LabelSelector, type ResourceRule, ruleMatches, selectorMatches } from "../k8s/match.ts";
import { CLUSTER_SCOPED } from "../podspec.ts";
import { type CompiledPolicy, type EvalTarget, rowFor } from "../target.ts";
import type { KubeObject, PolicyResult, SourceRef, Verdict } from "../types.ts";
import { namespaceObjectFor } from "./context.ts";
import { compileValidation, type ValidationSource } from "./validation.ts";

/** matchConstraints / matchResources of admissionregistration.k8s.io/v1. */
export interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: ResourceRule[];
  excludeResourceRules?: ResourceRule[];
  matchPolicy?: "Exact" | "Equivalent";
}

export interface VapDoc {
  obj: KubeObject & {
    spec: ValidationSource & {
      failurePolicy?: "Fail" | "Ignore";
      paramKind?: { apiVersion: string; kind: string };
      matchConstraints?: MatchResources;
      auditAnnotations?: Array<{ key: string; valueExpression: string }>;
    };
  };
  source: SourceRef;
}

export interface VapBindingDoc {
  obj: KubeObject & {
    spec: {
      policyName: string;
      paramRef?: {
        name?: string;
        namespace?: string;
        selector?: LabelSelector;
        parameterNotFoundAction?: "Allow" | "Deny";
      };
      matchResources?: MatchResources;
      validationActions?: Array<"Deny" | "Warn" | "Audit">;
    };
  };
  source: SourceRef;
}

/** Whether matchConstraints/matchResources select the target (rules, exclusions, namespace and object selectors). */
export function matchesResources(m: MatchResources | undefined, t: EvalTarget): boolean {
  if (!m) return true;
  // Selectors see the object admission sees (a Namespace carries its kubernetes.io/metadata.name label).
  const obj = t.request.object ?? t.loaded.obj;
  const op = t.request.operation;
  if (m.resourceRules && !m.resourceRules.some((r) => ruleMatches(r, obj, op, t.clusterScoped))) return false;
  if (m.excludeResourceRules?.some((r) => ruleMatches(r, obj, op, t.clusterScoped))) return false;
  if (m.objectSelector && !selectorMatches(m.objectSelector, obj.metadata?.labels)) return false;
  if (m.namespaceSelector && Object.keys(m.namespaceSelector).length > 0) {
    // For a Namespace object the selector applies to the object itself; cluster-scoped objects always match.
    const labels =
      obj.kind === "Namespace"
        ? obj.metadata?.labels
        : t.clusterScoped
          ? undefined
          : t.context.namespace(t.request.namespace || t.namespace)?.metadata?.labels;
    if (!t.clusterScoped || obj.kind === "Namespace") {
      if (!selectorMatches(m.namespaceSelector, labels)) return false;
    }
  }
  return true;
}

/** The verdict a failing validation gives under a binding's validationActions. */
function verdictFor(actions: Array<"Deny" | "Warn" | "Audit">): Verdict {
  return actions.includes("Deny") ? "fail" : "warn";
}

/** Compiles each (ValidatingAdmissionPolicy, binding) pair; a policy without a binding is reported, not run. */
export function compileVaps(
  policies: VapDoc[],
  bindings: VapBindingDoc[],
  engine: CelEngine,
): { policies: CompiledPolicy[]; notes: PolicyResult[] } {
  const out: CompiledPolicy[] = [];
  const notes: PolicyResult[] = [];
  for (const p of policies) {
    const name = p.obj.metadata.name ?? "";
    const mine = bindings.filter((b) => b.obj.spec?.policyName === name);
    if (mine.length === 0) {
      notes.push({
        policy: name,
        kind: p.obj.kind,
        namespace: "",
        name,
        verdict: "skip",
        severity: "warning",
        message:
          "no ValidatingAdmissionPolicyBinding refers to this policy, so the cluster does not enforce it; add a binding to check it",
        file: p.source.file,
        line: p.source.line,
      });
      continue;
    }
    const spec = p.obj.spec ?? ({} as VapDoc["obj"]["spec"]);
    const validation = compileValidation(spec, engine, {
      policy: name,
      file: p.source.file,
      line: p.source.line,
    });
    for (const b of mine) {
      const actions = b.obj.spec.validationActions ?? [];
      if (actions.length === 0 || (actions.includes("Deny") && actions.includes("Warn"))) {
        throw new PlatformError(
          "POLICY_INVALID",
          `binding ${b.obj.metadata.name}: validationActions must be non-empty and may not combine Deny and Warn`,
          {
            file: b.source.file,
            line: b.source.line,
            hint: "Use [Deny], [Warn], [Audit], [Deny, Audit] or [Warn, Audit].",
          },
        );
      }
      out.push(vapPolicy(p, b, validation, actions));
    }
  }
  return { policies: out, notes };
}

function vapPolicy(
  p: VapDoc,
  b: VapBindingDoc,
  validation: ReturnType<typeof compileValidation>,
  actions: Array<"Deny" | "Warn" | "Audit">,
): CompiledPolicy {
  const spec = p.obj.spec;
  const policyName = p.obj.metadata.name ?? "";
  const failurePolicy = spec.failurePolicy ?? "Fail";
  const verdict = verdictFor(actions);
  const paramKind = spec.paramKind;
  const paramRef = b.obj.spec.paramRef;
  return {
    id: policyName,
    kind: "ValidatingAdmissionPolicy",
    title: `${policyName} (binding ${b.obj.metadata.name})`,
    evaluate(t) {
      if (!matchesResources(spec.matchConstraints, t) || !matchesResources(b.obj.spec.matchResources, t))
        return [];
      const base = rowFor(t, policyName, verdict === "fail" ? "error" : "warning");
      // A binding the server cannot apply (its params are missing or unreachable) denies whatever the
      // validationActions say, unless failurePolicy is Ignore (generic.CollectParams + addConfigError).
      const configError = (err: string): PolicyResult[] =>
        failurePolicy === "Ignore"
          ? []
          : [{ ...base, severity: "error", verdict: "fail", message: `failed to configure binding: ${err}` }];
      // One evaluation per selected param object, as the apiserver does; no paramRef means params == null.
      let params: Array<KubeObject | null> = [null];
      if (paramKind && paramRef) {
        const clusterScopedParams = CLUSTER_SCOPED.has(paramKind.kind);
        let ns: string | undefined;
        if (clusterScopedParams) {
          if (paramRef.namespace)
            return configError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`");
        } else {
          ns = paramRef.namespace || t.request.namespace;
          if (!ns)
            return configError(
              "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources",
            );
        }
        const candidates = t.context.find(
          paramKind.apiVersion,
          paramKind.kind,
          paramRef.name || undefined,
          ns,
        );
        params = paramRef.name
          ? candidates
          : candidates.filter((c) => selectorMatches(paramRef.selector ?? {}, c.metadata?.labels));
        if (params.length === 0) {
          if ((paramRef.parameterNotFoundAction ?? "Deny") === "Allow")
            return [{ ...base, verdict: "pass", message: "" }];
          return configError("no params found for policy binding with `Deny` parameterNotFoundAction");
        }
      }
      const rows: PolicyResult[] = [];
      let applied = false;
      for (const param of params) {
        const outcome = validation.run({
          object: t.request.object,
          oldObject: t.request.oldObject,
          request: t.request,
          params: param,
          namespaceObject: namespaceObjectFor(t.request, t.context, t.clusterScoped),
          authorizer: null,
        });
        if (outcome.kind === "skipped") continue;
        applied = true;
        for (const f of outcome.failures) {
          if (f.error && failurePolicy === "Ignore") continue;
          // An evaluation error is a Deny decision (failurePolicy Fail) that the binding's actions apply to.
          rows.push({
            ...base,
            verdict: f.error && verdict === "fail" ? "error" : verdict,
            message: f.message,
            ...(f.error && verdict !== "fail" ? { evaluationError: true } : {}),
          });
        }
      }
      if (!applied) return [];
      return rows.length ? rows : [{ ...base, verdict: "pass", message: "" }];
    },
  };
}
