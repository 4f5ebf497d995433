import { PlatformError } from "@platform/core";
import type { CelEngine } from "../cel/engine.ts";
import { type CompiledPolicy, type EvalTarget, rowFor } from "../evaluate.ts";
import { podTarget } from "../podspec.ts";
import type { KubeObject, LoadedObject, PolicyResult, SourceRef } from "../types.ts";
import { namespaceObjectFor } from "./context.ts";
import { createRequest } from "./request.ts";
import { compileValidation, type ValidationSource } from "./validation.ts";
import { type MatchResources, matchesResources } from "./vap.ts";

export interface KyvernoPolicyDoc {
  obj: KubeObject & {
    spec?: ValidationSource & {
      validationActions?: Array<"Deny" | "Warn" | "Audit">;
      failurePolicy?: "Fail" | "Ignore";
      matchConstraints?: MatchResources;
      autogen?: { podControllers?: { controllers?: string[] } };
    };
  };
  source: SourceRef;
}

/** A Kyverno document we cannot evaluate: what it is, and why. */
export interface UnsupportedKyverno {
  /** "ClusterPolicy (validate.pattern)", "MutatingPolicy", ... */
  what: string;
  hint: string;
}

const CEL_KINDS_HINT =
  "Only Kyverno ValidatingPolicy (policies.kyverno.io, CEL) and ValidatingAdmissionPolicy are evaluated; rewrite the policy as a ValidatingPolicy (kyverno/policies has *-vpol versions of most policies) or check it with the kyverno CLI.";

const EXCEPTION_HINT =
  "Exceptions are not applied here: remove it from the policies input (its exemptions would be silently ignored) and waive findings with a platform waiver instead.";

/** The kind of each classic rule (kyverno.io ClusterPolicy/Policy), as Kyverno's engine would run it. */
function classicRuleKinds(obj: KubeObject): string[] {
  const rules = ((obj.spec as { rules?: unknown[] } | undefined)?.rules ?? []) as Array<
    Record<string, unknown>
  >;
  const kinds = new Set<string>();
  for (const r of rules) {
    const v = r.validate as Record<string, unknown> | undefined;
    if (v?.cel) kinds.add("validate.cel");
    else if (v?.podSecurity) kinds.add("validate.podSecurity");
    else if (v?.assert) kinds.add("validate.assert");
    else if (v?.manifests) kinds.add("validate.manifests");
    else if (v) kinds.add("validate.pattern/anyPattern/deny/foreach");
    for (const k of ["mutate", "generate", "verifyImages"]) if (r[k]) kinds.add(k);
  }
  return [...kinds].sort();
}

/**
 * Whether a document is a Kyverno policy (or exception) that this engine does not evaluate: classic
 * ClusterPolicy/Policy rules (patterns, deny conditions, `validate.cel`, mutate, generate, verifyImages) and
 * the policies.kyverno.io kinds other than ValidatingPolicy. Undefined for anything else.
 */
export function unsupportedKyverno(obj: KubeObject): UnsupportedKyverno | undefined {
  const group = (obj.apiVersion ?? "").split("/")[0];
  if (group === "kyverno.io" && (obj.kind === "ClusterPolicy" || obj.kind === "Policy")) {
    const kinds = classicRuleKinds(obj);
    return {
      what: `Kyverno ${obj.kind}${kinds.length ? ` (${kinds.join(", ")} rules)` : ""}`,
      hint: CEL_KINDS_HINT,
    };
  }
  if (group === "kyverno.io" && obj.kind === "PolicyException")
    return {
      what: "Kyverno PolicyException",
      hint: EXCEPTION_HINT,
    };
  if (
    group === "policies.kyverno.io" &&
    obj.kind !== "ValidatingPolicy" &&
    obj.kind !== "NamespacedValidatingPolicy"
  )
    return {
      what: `Kyverno ${obj.kind}`,
      hint: obj.kind === "PolicyException" ? EXCEPTION_HINT : CEL_KINDS_HINT,
    };
  return undefined;
}

/** Throws for the first Kyverno document among `objects` that cannot be evaluated (fail closed: never a silent pass). */
export function assertKyvernoSupported(objects: LoadedObject[]): void {
  for (const o of objects) {
    const u = unsupportedKyverno(o.obj);
    if (!u) continue;
    throw new PlatformError(
      "POLICY_UNSUPPORTED",
      `${u.what} "${o.obj.metadata?.name ?? ""}" is not supported: it would be loaded but never evaluated`,
      { input: "policies", file: o.source.file, line: o.source.line, hint: u.hint },
    );
  }
}

/** Kyverno's default Pod controllers for auto-generated rules. */
const DEFAULT_CONTROLLERS = ["daemonsets", "deployments", "jobs", "statefulsets", "replicasets", "cronjobs"];
const CONTROLLER_RESOURCE: Record<string, string> = {
  DaemonSet: "daemonsets",
  Deployment: "deployments",
  Job: "jobs",
  StatefulSet: "statefulsets",
  ReplicaSet: "replicasets",
  CronJob: "cronjobs",
  ReplicationController: "replicationcontrollers",
};

/** Whether a policy's matchConstraints select Pods (the precondition for Kyverno's autogen). */
function selectsPods(m: MatchResources | undefined): boolean {
  return !!m?.resourceRules?.some(
    (r) =>
      (r.resources ?? []).some((x) => x === "pods" || x === "*") &&
      (r.apiGroups ?? [""]).some((g) => g === "" || g === "*"),
  );
}

/**
 * The Pod a controller's template describes, as Kyverno's autogen judges it: the template's metadata and
 * spec in a Pod of the controller's namespace (a Pod policy then decides for the controller).
 */
function podFromController(obj: KubeObject): KubeObject | undefined {
  const pod = podTarget(obj);
  if (!pod || obj.kind === "Pod") return undefined;
  const meta = pod.meta as KubeObject["metadata"];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...meta, name: meta.name ?? obj.metadata.name, namespace: obj.metadata.namespace },
    spec: pod.spec,
  };
}

/** Compiles Kyverno ValidatingPolicies (policies.kyverno.io, CEL) with Pod-controller autogen. */
export function compileKyverno(docs: KyvernoPolicyDoc[], engine: CelEngine): CompiledPolicy[] {
  return docs.map((d) => {
    const name = d.obj.metadata?.name ?? "";
    const spec = d.obj.spec ?? {};
    const validation = compileValidation(spec, engine, {
      policy: name,
      file: d.source.file,
      line: d.source.line,
    });
    const actions = spec.validationActions ?? ["Deny"];
    const verdict = actions.includes("Deny") ? ("fail" as const) : ("warn" as const);
    const controllers = selectsPods(spec.matchConstraints)
      ? (spec.autogen?.podControllers?.controllers ?? DEFAULT_CONTROLLERS)
      : [];
    const judge = (t: EvalTarget, subject: KubeObject): PolicyResult[] => {
      const obj = t.loaded.obj;
      const base = rowFor(t, name, verdict === "fail" ? "error" : "warning");
      const request =
        subject === obj ? t.request : { ...createRequest(subject), operation: t.request.operation };
      const outcome = validation.run({
        object: request.object,
        oldObject: request.oldObject,
        request,
        params: null,
        namespaceObject: namespaceObjectFor(request, t.context, t.clusterScoped),
      });
      if (outcome.kind === "skipped") return [{ ...base, verdict: "skip", message: outcome.reason }];
      const rows = outcome.failures
        .filter((f) => !(f.error && spec.failurePolicy === "Ignore"))
        .map((f) => ({ ...base, verdict: f.error ? ("error" as const) : verdict, message: f.message }));
      return rows.length ? rows : [{ ...base, verdict: "pass", message: "" }];
    };
    return {
      id: name,
      kind: "ValidatingPolicy",
      title: name,
      evaluate(t) {
        if (matchesResources(spec.matchConstraints, t)) return judge(t, t.loaded.obj);
        const resource = CONTROLLER_RESOURCE[t.loaded.obj.kind];
        if (!resource || !controllers.includes(resource)) return [];
        const pod = podFromController(t.loaded.obj);
        if (!pod) return [];
        // The synthetic Pod must itself pass the policy's selectors for the rule to apply.
        const podTargetView: EvalTarget = {
          ...t,
          loaded: { ...t.loaded, obj: pod },
          request: { ...createRequest(pod), operation: t.request.operation },
        };
        if (!matchesResources(spec.matchConstraints, podTargetView)) return [];
        return judge(t, pod);
      },
    };
  });
}
