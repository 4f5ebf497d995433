import type { Environment } from "@marcbachmann/cel-js";
import { PlatformError } from "@platform/core/errors";
import { type CelEngine, createCelEngine } from "../cel/engine.ts";
import { celError } from "../cel/values.ts";
import { groupVersion, resourceOf } from "../k8s/match.ts";
import { podTarget } from "../podspec.ts";
import { type CompiledPolicy, type EvalTarget, rowFor } from "../target.ts";
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

/** Where Kyverno's context functions and namespaceObject read from; each defaults to the render. */
export interface KyvernoContext {
  /** `namespaceObject` for a namespace name (kyverno test: the values file's namespaces, else null). */
  namespace?: (name: string) => KubeObject | null;
  /**
   * The objects `resource.Get` / `resource.List` see (kyverno test: the context file's resources). None by
   * default: the cluster's objects are unknown offline, so a Get is an error, never a guess.
   */
  resources?: readonly KubeObject[];
  /** `request.userInfo` (kyverno test: the userinfo file). */
  userInfo?: { username: string; groups?: string[]; [k: string]: unknown };
}

/** The `resource` variable of Kyverno's resource library: Get/List over the known objects, never a cluster. */
class KyvernoResources {
  readonly objects: readonly KubeObject[];
  constructor(objects: readonly KubeObject[]) {
    this.objects = objects;
  }
  find(apiVersion: string, resource: string, namespace: string, name?: string): KubeObject[] {
    return this.objects.filter((o) => {
      const gv = groupVersion(o);
      return (
        resourceOf(o.kind) === resource &&
        (gv.group ? `${gv.group}/${gv.version}` : gv.version) === apiVersion &&
        (namespace === "" || (o.metadata?.namespace ?? "") === namespace) &&
        (name === undefined || o.metadata?.name === name)
      );
    });
  }
}
/** Kyverno libraries that need the network or a cluster: declared (so type checks and short-circuits behave as in Kyverno), failing when called. */
class KyvernoOffline {
  readonly library: string;
  constructor(library: string) {
    this.library = library;
  }
}

function offline(what: string): never {
  throw celError(
    `${what} is not supported: policy check and policy test run offline (no registry, HTTP endpoint or cluster to ask)`,
  );
}

/** Kyverno's CEL libraries (kyverno 1.15 ValidatingPolicy): resource, image, http, globalContext and user. */
export function registerKyvernoLibraries(env: Environment): void {
  const R = "kyverno.Resources";
  const O = "kyverno.Offline";
  env.registerType(R, { ctor: KyvernoResources, fields: {} });
  env.registerType(O, { ctor: KyvernoOffline, fields: {} });
  env.registerFunction(
    `${R}.Get(string, string, string, string): map<string, dyn>`,
    (r: KyvernoResources, apiVersion: string, resource: string, namespace: string, name: string) => {
      const [found] = r.find(apiVersion, resource, namespace, name);
      if (!found)
        throw celError(
          `failed to get resource: ${resource} "${name}" not found in namespace "${namespace}" (resource.Get sees only a kyverno-test context file offline)`,
        );
      return found;
    },
  );
  env.registerFunction(
    `${R}.List(string, string, string): map<string, dyn>`,
    (r: KyvernoResources, apiVersion: string, resource: string, namespace: string) => ({
      apiVersion,
      kind: "List",
      metadata: {},
      items: r.find(apiVersion, resource, namespace),
    }),
  );
  env.registerFunction(`${R}.Post(string, string, string, map<string, dyn>): map<string, dyn>`, () =>
    offline("resource.Post"),
  );
  env.registerFunction(`${R}.Post(string, string, map<string, dyn>): map<string, dyn>`, () =>
    offline("resource.Post"),
  );
  env.registerFunction(`${O}.GetMetadata(string): map<string, dyn>`, () => offline("image.GetMetadata"));
  env.registerFunction(`${O}.Get(string): dyn`, () => offline("http.Get / globalContext.Get"));
  env.registerFunction(`${O}.Get(string, map<string, dyn>): dyn`, () => offline("http.Get"));
  env.registerFunction(`${O}.Get(string, string): dyn`, () => offline("globalContext.Get"));
  env.registerFunction(`${O}.Post(string, dyn): dyn`, () => offline("http.Post"));
  env.registerFunction(`${O}.Post(string, dyn, map<string, dyn>): dyn`, () => offline("http.Post"));
  // Kyverno's user library: "system:serviceaccount:<ns>:<name>" split as its parse_service_account_string does.
  env.registerFunction("parseServiceAccount(string): map<string, string>", (user: string) => {
    const prefix = "system:serviceaccount:";
    const rest = user.startsWith(prefix) ? user.slice(prefix.length) : "";
    const sep = rest.indexOf(":");
    return sep === -1
      ? { Namespace: "", Name: "" }
      : { Namespace: rest.slice(0, sep), Name: rest.slice(sep + 1) };
  });
}

/** The activation values of Kyverno's offline-only libraries (exported for tests). */
export const OFFLINE_VARS = {
  image: new KyvernoOffline("image"),
  http: new KyvernoOffline("http"),
  globalContext: new KyvernoOffline("globalContext"),
};

/** Kyverno library calls that need a registry, an HTTP endpoint or a cluster, with what each needs. */
const OFFLINE_CALLS: Array<{ call: RegExp; name: string; needs: string }> = [
  { call: /\bimage\s*\.\s*GetMetadata\s*\(/, name: "image.GetMetadata", needs: "a registry" },
  { call: /\bhttp\s*\.\s*(?:Get|Post)\s*\(/, name: "http.Get/Post", needs: "an HTTP endpoint" },
  { call: /\bglobalContext\s*\.\s*Get\s*\(/, name: "globalContext.Get", needs: "a cluster" },
  { call: /\bresource\s*\.\s*Post\s*\(/, name: "resource.Post", needs: "a cluster" },
];

/** The offline-only Kyverno library calls a policy's CEL makes (its expressions as written). */
export function offlineCalls(spec: ValidationSource & { auditAnnotations?: unknown }): string[] {
  const text = JSON.stringify([
    spec.matchConditions,
    spec.variables,
    spec.validations,
    spec.auditAnnotations,
  ]);
  return OFFLINE_CALLS.filter((c) => c.call.test(text)).map((c) => `${c.name} (needs ${c.needs})`);
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
 * spec in a Pod of the namespace the controller is created in (a Pod policy then decides for the controller).
 */
function podFromController(obj: KubeObject, namespace: string): KubeObject | undefined {
  const pod = podTarget(obj);
  if (!pod || obj.kind === "Pod") return undefined;
  const meta = pod.meta as KubeObject["metadata"];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...meta, name: meta.name ?? obj.metadata.name, ...(namespace ? { namespace } : {}) },
    spec: pod.spec,
  };
}

/** An engine with Kyverno's libraries on top of the Kubernetes ones. */
export function createKyvernoEngine(): CelEngine {
  return createCelEngine({ libraries: [registerKyvernoLibraries] });
}

/**
 * Compiles Kyverno ValidatingPolicies (policies.kyverno.io, CEL) with Pod-controller autogen, on an engine
 * with Kyverno's libraries (created when not given).
 */
export function compileKyverno(
  docs: KyvernoPolicyDoc[],
  engine: CelEngine = createKyvernoEngine(),
  kctx: KyvernoContext = {},
): CompiledPolicy[] {
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
    const offline = offlineCalls(spec);
    // An error where the policy calls an offline-only library says so first (cel-js's own wording, such as
    // "has() invalid argument" for has() over a call, would hide the cause).
    const unsupported = offline.length
      ? `uses Kyverno's ${offline.join(", ")}, which policy check and policy test cannot evaluate offline`
      : undefined;
    const judge = (t: EvalTarget, subject: KubeObject): PolicyResult[] => {
      const obj = t.loaded.obj;
      const base = rowFor(t, name, verdict === "fail" ? "error" : "warning");
      const base0 =
        subject === obj ? t.request : { ...createRequest(subject), operation: t.request.operation };
      const request = kctx.userInfo ? { ...base0, userInfo: { groups: [], ...kctx.userInfo } } : base0;
      const namespaceObject = kctx.namespace
        ? request.namespace
          ? kctx.namespace(request.namespace)
          : null
        : namespaceObjectFor(request, t.context, t.clusterScoped);
      const outcome = validation.run({
        object: request.object,
        oldObject: request.oldObject,
        request,
        params: null,
        namespaceObject,
        resource: new KyvernoResources(kctx.resources ?? []),
        ...OFFLINE_VARS,
      });
      if (outcome.kind === "skipped") return [{ ...base, verdict: "skip", message: outcome.reason }];
      const rows = outcome.failures
        .filter((f) => !(f.error && spec.failurePolicy === "Ignore"))
        // An evaluation error blocks only where a failure would (Deny); under Audit it is reported, not enforced.
        .map((f) => {
          if (!f.error) return { ...base, verdict, message: f.message };
          const message = unsupported ? `${unsupported}: ${f.message}` : f.message;
          return verdict === "fail"
            ? { ...base, verdict: "error" as const, message }
            : { ...base, verdict, message, evaluationError: true };
        });
      return rows.length ? rows : [{ ...base, verdict: "pass", message: "" }];
    };
    return {
      id: name,
      kind: "ValidatingPolicy",
      title: name,
      ...(unsupported ? { unsupported } : {}),
      evaluate(t) {
        if (matchesResources(spec.matchConstraints, t)) return judge(t, t.loaded.obj);
        const resource = CONTROLLER_RESOURCE[t.loaded.obj.kind];
        if (!resource || !controllers.includes(resource)) return [];
        const pod = podFromController(t.loaded.obj, t.request.namespace);
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
