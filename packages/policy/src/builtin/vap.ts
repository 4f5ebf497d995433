// The built-in guardrails as native ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1), generated from
// the same rule definitions the dry-run evaluates, so a cluster that enforces natively gives the same verdicts.
//
// The rules are written in our CEL dialect; Kubernetes' CEL environment (k8s.io/apiserver/pkg/cel/environment,
// base.go) differs in three ways that matter here, and each is translated on the parsed expression, never by
// copying expressions by hand:
// - `image(string)` is our function. It becomes IMAGE_REF_CEL: the same distribution-reference grammar as
//   image.ts, written with the strings library (indexOf, lastIndexOf, substring, split, lowerAscii, trim) and
//   `matches`.
// - `cel.bind` comes from cel-go's ext.Bindings, which no Kubernetes version adds to its environment (1.30 has
//   strings v2, sets, optionals, quantity, IP/CIDR; no bindings; the apiserver's compiler rejects cel.bind). `cel.bind(x, init, body)` becomes
//   `[init].map(x, body)[0]`: a one-element comprehension binds the same way, with the same eager evaluation of
//   `init` (cel.bind is a comprehension with an empty range, too).
// - The evaluator's per-target variables (`podSpec`, `podMeta`, `container`, `params.*`, `clusterScoped`)
//   become VAP `variables` computed from `object`, and the per-container loop becomes
//   `variables.containers.all(container, …)`.
import { Environment } from "@marcbachmann/cel-js";
import { IMAGE_GRAMMAR, NAME_MAX_LENGTH, PlatformError } from "@platform/core";
import { stringify } from "yaml";
import type { BuiltinParams } from "../evaluate.ts";
import { type ResourceRule, resourceOf } from "../k8s/match.ts";
import { BUILTIN_RULES, type BuiltinRule } from "./rules.ts";

type Action = "Deny" | "Warn" | "Audit";

/** The oldest Kubernetes minor version whose CEL environment the generated expressions need (optionals: 1.28+). */
export const TARGET_KUBERNETES = "1.30";

/** Where the generated param ConfigMap lives (the bindings' paramRef names it). */
export const PARAMS_NAME = "platform-guardrails-params";
const DEFAULT_PARAMS_NAMESPACE = "kube-system";

const PARAM_KEYS = ["trustedRegistries", "allowedCapabilities", "teamNamespaces", "declaredCallers"] as const;
type ParamKey = (typeof PARAM_KEYS)[number];

// The same grammar as parseImageRef (core); vap.test.ts checks IMAGE_REF_CEL against parseImageRef on one corpus.
const { pathComponent: PATH_COMPONENT, tag: TAG, digest: DIGEST, host: HOST } = IMAGE_GRAMMAR;

/** A CEL string literal for any JS string. */
export function celString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\r/g, "\\r")}'`;
}

/** `[init].map(name, body)[0]`: a let-binding in standard CEL, for environments without cel.bind. */
function bind(name: string, init: string, body: string): string {
  return `[${init}].map(${name}, ${body})[0]`;
}

/**
 * Pure Kubernetes CEL for `image(ref)`: a map<string, string> with registry, repository, tag, digest, name and
 * valid ('true'/'false'), as the engine's image() returns. Each step is bound once, so the expression stays
 * linear in size; all map values are strings (Kubernetes requires homogeneous aggregate literals).
 */
export function imageRefCel(ref: string): string {
  const host = "imgParts[0]";
  const steps: Array<[string, string]> = [
    // Not trimmed: the runtime refuses a reference with white space, so must the policy.
    ["imgIn", `(${ref}).substring(0)`],
    ["imgNoDigest", "imgIn.contains('@') ? imgIn.substring(0, imgIn.indexOf('@')) : imgIn"],
    ["imgHasTag", "imgNoDigest.lastIndexOf(':') > imgNoDigest.lastIndexOf('/')"],
    ["imgName", "imgHasTag ? imgNoDigest.substring(0, imgNoDigest.lastIndexOf(':')) : imgNoDigest"],
    ["imgParts", "imgName.split('/')"],
    // The first component names a registry when it looks like a host (a dot or a port), is localhost or an IPv6 literal.
    [
      "imgHasHost",
      `imgParts.size() > 1 && (${host}.contains('.') || ${host}.contains(':') || ${host} == 'localhost' || ${host}.startsWith('[') || ${host} != ${host}.lowerAscii())`,
    ],
    ["imgPath", `imgHasHost ? imgName.substring(${host}.size() + 1) : imgName`],
    [
      "imgHost",
      `imgHasHost && !(${host}.lowerAscii() in ['index.docker.io', 'registry-1.docker.io']) ? ${host}.lowerAscii() : 'docker.io'`,
    ],
    ["imgRepo", "imgHost == 'docker.io' && !imgPath.contains('/') ? 'library/' + imgPath : imgPath"],
    ["imgTag", "imgHasTag ? imgNoDigest.substring(imgNoDigest.lastIndexOf(':') + 1) : ''"],
    ["imgDigest", "imgIn.contains('@') ? imgIn.substring(imgIn.indexOf('@') + 1) : ''"],
  ];
  const valid =
    `imgRepo.size() > 0 && imgPath.split('/').all(imgPart, imgPart.matches(${celString(PATH_COMPONENT.source)}))` +
    ` && (!imgHasTag || imgTag.matches(${celString(TAG.source)}))` +
    ` && (!imgIn.contains('@') || imgDigest.matches(${celString(DIGEST.source)}))` +
    ` && (!imgHasHost || ${host}.matches(${celString(HOST.source)}))` +
    ` && imgHost.size() + 1 + imgRepo.size() <= ${NAME_MAX_LENGTH}` +
    ` && !(imgHost == 'docker.io' && !imgPath.contains('/') && imgPath.matches('^[a-f0-9]{64}$'))`;
  let body = `{'registry': imgHost, 'repository': imgRepo, 'tag': imgTag, 'digest': imgDigest, 'name': imgHost + '/' + imgRepo, 'valid': ${valid} ? 'true' : 'false'}`;
  for (const [name, init] of [...steps].reverse()) body = bind(name, init, body);
  return `(${body})`;
}

// ---------------------------------------------------------------------------------------------------------------
// What Kubernetes' CEL environment offers at TARGET_KUBERNETES (base.go plus the admission variables).

/** Variables a ValidatingAdmissionPolicy expression may reference. */
const VAP_VARIABLES = new Set([
  "object",
  "oldObject",
  "request",
  "params",
  "namespaceObject",
  "variables",
  "authorizer",
]);
/** Global functions and macros: standard library, Kubernetes URL/quantity/IP/CIDR libraries. */
const GLOBAL_FUNCTIONS = new Set([
  "has",
  "size",
  "int",
  "uint",
  "double",
  "string",
  "bytes",
  "bool",
  "duration",
  "timestamp",
  "type",
  "dyn",
  "matches",
  "url",
  "isURL",
  "quantity",
  "isQuantity",
  "ip",
  "isIP",
  "cidr",
  "isCIDR",
]);
/** Receiver-style functions: standard, strings v2, Kubernetes lists/regex/URL/authz/quantity/IP/CIDR, optionals. */
const METHODS = new Set([
  // standard
  "size",
  "contains",
  "startsWith",
  "endsWith",
  "matches",
  "getFullYear",
  "getMonth",
  "getDayOfYear",
  "getDayOfMonth",
  "getDate",
  "getDayOfWeek",
  "getHours",
  "getMinutes",
  "getSeconds",
  "getMilliseconds",
  // macros
  "all",
  "exists",
  "exists_one",
  "map",
  "filter",
  // ext.Strings v2
  "charAt",
  "indexOf",
  "lastIndexOf",
  "lowerAscii",
  "upperAscii",
  "replace",
  "split",
  "substring",
  "trim",
  "join",
  "format",
  // Kubernetes lists and regex
  "isSorted",
  "sum",
  "min",
  "max",
  "find",
  "findAll",
  // Kubernetes URL
  "getScheme",
  "getHost",
  "getHostname",
  "getPort",
  "getEscapedPath",
  "getQuery",
  // Kubernetes authz
  "path",
  "group",
  "serviceAccount",
  "resource",
  "subresource",
  "namespace",
  "name",
  "check",
  "allowed",
  "reason",
  "errored",
  "error",
  // Kubernetes quantity
  "sign",
  "isGreaterThan",
  "isLessThan",
  "compareTo",
  "add",
  "sub",
  "asInteger",
  "isInteger",
  "asApproximateFloat",
  // Kubernetes IP / CIDR (1.30)
  "family",
  "isUnspecified",
  "isLoopback",
  "isLinkLocalMulticast",
  "isLinkLocalUnicast",
  "isGlobalUnicast",
  "isCanonical",
  "containsIP",
  "containsCIDR",
  "masked",
  "prefixLength",
  // optionals
  "hasValue",
  "value",
  "orValue",
  "or",
]);
/** Namespaced functions (`ns.fn(...)`). */
const NAMESPACED = new Set([
  "optional.of",
  "optional.none",
  "optional.ofNonZeroValue",
  "sets.contains",
  "sets.equivalent",
  "sets.intersects",
  "strings.quote",
]);
const MACROS = new Set(["all", "exists", "exists_one", "map", "filter"]);

type Node = ReturnType<Environment["parse"]>["ast"];

function parser(): Environment {
  // Parsing only (no evaluation), so the engine's custom functions are irrelevant; its spans drive the rewrite.
  return new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true });
}

function childNodes(n: Node): Node[] {
  switch (n.op) {
    case "value":
    case "id":
      return [];
    case ".":
    case ".?":
      return [n.args[0]];
    case "call":
      return [...n.args[1]];
    case "rcall":
      return [n.args[1], ...n.args[2]];
    case "list":
      return [...n.args];
    case "map":
      return n.args.flat();
    case "!_":
    case "-_":
      return [n.args];
    default:
      return [...(n.args as Node[])];
  }
}

/** The comprehension variable a macro call binds (`list.all(x, …)`), if any. */
function binder(n: Node): string | undefined {
  if (n.op !== "rcall" || !MACROS.has(n.args[0])) return undefined;
  const first = n.args[2][0];
  return first?.op === "id" ? first.args : undefined;
}

/**
 * Why an expression would not compile in Kubernetes' CEL environment: functions it lacks (our `image()`,
 * `cel.bind`, anything else), variables a ValidatingAdmissionPolicy does not have, two-variable comprehensions
 * (1.32+). Empty when the expression is native.
 */
export function nativeCelProblems(expression: string, inScope: Iterable<string> = []): string[] {
  let ast: Node;
  try {
    ast = parser().parse(expression).ast;
  } catch (err) {
    return [`syntax: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`];
  }
  const problems = new Set<string>();
  const walk = (n: Node, scope: ReadonlySet<string>): void => {
    if (n.op === "id") {
      if (!scope.has(n.args) && !VAP_VARIABLES.has(n.args)) problems.add(`unknown variable ${n.args}`);
      return;
    }
    if (n.op === "call" && !GLOBAL_FUNCTIONS.has(n.args[0])) problems.add(`function ${n.args[0]}()`);
    if (n.op === "rcall") {
      const [name, recv, args] = n.args;
      if (recv.op === "id" && !scope.has(recv.args) && !VAP_VARIABLES.has(recv.args)) {
        if (!NAMESPACED.has(`${recv.args}.${name}`)) problems.add(`function ${recv.args}.${name}()`);
        for (const a of args) walk(a, scope);
        return;
      }
      if (!METHODS.has(name)) problems.add(`function .${name}()`);
      const bound = binder(n);
      if (bound) {
        if (name !== "map" && args.length !== 2) problems.add(`two-variable ${name}() (Kubernetes 1.32+)`);
        walk(recv, scope);
        const inner = new Set([...scope, bound]);
        for (const a of args.slice(1)) walk(a, inner);
        return;
      }
    }
    for (const c of childNodes(n)) walk(c, scope);
  };
  walk(ast, new Set(inScope));
  return [...problems];
}

// ---------------------------------------------------------------------------------------------------------------
// Translation of one rule expression.

class NotNative extends Error {}

interface Translation {
  /** Free identifiers replaced by native CEL (`podSpec` → `variables.podSpec`). */
  ids: Record<string, string>;
  /** Identifiers that cannot be expressed natively, with the reason. */
  unsupported: Record<string, string>;
}

/** Identifiers of the evaluator that have no admission-time equivalent. */
const UNSUPPORTED: Record<string, string> = {
  serviceAccounts:
    "needs other objects of the render (the pod's ServiceAccount); admission sees one object at a time",
  render:
    "needs other objects of the render (builtin/render.ts: the namespace's PeerAuthentications, AuthorizationPolicies, quotas and workloads, or Secret values decoded from base64, which Kubernetes CEL cannot do); admission sees one object at a time",
};

/**
 * Rewrites one built-in expression into Kubernetes CEL: walks the parsed expression and rebuilds its source,
 * replacing only the nodes that need it (everything else keeps its original text, so the result reads like
 * the rule). Throws NotNative when something has no native form; the result is checked by nativeCelProblems.
 */
function toNative(source: string, t: Translation, inScope: string[]): string {
  const ast = parser().parse(source).ast;
  const slice = (a: number, b: number) => source.slice(a, b);
  const rebuild = (n: Node, scopeOf: (child: Node) => ReadonlySet<string>): string => {
    const kids = childNodes(n).sort((a, b) => a.start - b.start);
    let out = "";
    let pos = n.start;
    for (const k of kids) {
      if (k.start < pos || k.end > n.end) throw new Error(`unexpected span in ${source}`);
      out += slice(pos, k.start) + emit(k, scopeOf(k));
      pos = k.end;
    }
    return out + slice(pos, n.end);
  };
  // The arguments of a call whose node is replaced, each with the parentheses around it: the parser's spans
  // of an operator node can include an opening parenthesis of its operand but not the closing one, which
  // then sits in the gap before the next comma or the call's own closing parenthesis.
  const argTexts = (n: Node, from: number, args: Node[], scopes: Array<ReadonlySet<string>>): string[] => {
    if (source[n.end - 1] !== ")") throw new Error(`unexpected span ${slice(n.start, n.end)}`);
    let start = source.indexOf("(", from) + 1;
    return args.map((a, i) => {
      const next = args[i + 1];
      const end = next ? source.indexOf(",", a.end) : n.end - 1;
      if (start <= 0 || end < a.end || (next && end > next.start))
        throw new Error(`unexpected span in ${source}`);
      const text = slice(start, a.start) + emit(a, scopes[i]!) + slice(a.end, end);
      start = end + 1;
      return text.trim();
    });
  };
  const exact = (n: Node, text: RegExp): void => {
    if (!text.test(slice(n.start, n.end))) throw new Error(`unexpected span ${slice(n.start, n.end)}`);
  };
  const emit = (n: Node, scope: ReadonlySet<string>): string => {
    if (n.op === "id") {
      const name = n.args;
      if (scope.has(name)) return name;
      const reason = t.unsupported[name];
      if (reason) throw new NotNative(`uses \`${name}\`, which ${reason}`);
      const replacement = t.ids[name];
      if (replacement !== undefined) {
        exact(n, new RegExp(`^${name}$`));
        return replacement;
      }
      return name;
    }
    if (n.op === "." && n.args[0].op === "id" && n.args[0].args === "params" && !scope.has("params")) {
      const key = n.args[1];
      if (!(PARAM_KEYS as readonly string[]).includes(key))
        throw new NotNative(`uses params.${key}, which the param ConfigMap does not carry`);
      exact(n, new RegExp(`^params\\s*\\.\\s*${key}$`));
      return `variables.${key}`;
    }
    if (n.op === "call" && n.args[0] === "image" && n.args[1].length === 1) {
      exact(n, /^image\s*\([\s\S]*\)$/);
      const arg = argTexts(n, n.start, n.args[1], [scope])[0]!;
      if (scope.size > 0 || (imageCalls.get(slice(n.start, n.end)) ?? 0) < 2) return imageRefCel(arg);
      let name = hoisted.get(arg);
      if (!name) {
        for (let i = hoisted.size + 1; !name || new RegExp(`\\b${name}\\b`).test(source); i++)
          name = i === 1 ? "imageRef" : `imageRef${i}`;
        hoisted.set(arg, name);
      }
      return name;
    }
    if (n.op === "rcall") {
      const [name, recv, args] = n.args;
      if (name === "bind" && recv.op === "id" && recv.args === "cel" && !scope.has("cel")) {
        const [v, init, body] = args;
        if (v?.op !== "id" || !init || !body || args.length !== 3) throw new NotNative("malformed cel.bind");
        exact(n, /^cel\s*\.\s*bind\s*\([\s\S]*\)$/);
        const [, initText, bodyText] = argTexts(n, recv.end, args, [
          scope,
          scope,
          new Set([...scope, v.args]),
        ]);
        return bind(v.args, initText!, bodyText!);
      }
      const bound = binder(n);
      if (bound) {
        const inner = new Set([...scope, bound]);
        return rebuild(n, (k) => (k === recv ? scope : inner));
      }
    }
    return rebuild(n, () => scope);
  };
  // A reference parsed more than once at the top of the expression is parsed once and bound, which keeps the
  // generated YAML readable. This evaluates it eagerly, as cel.bind would; the equivalence test covers the rules.
  const imageCalls = new Map<string, number>();
  const count = (n: Node): void => {
    if (n.op === "call" && n.args[0] === "image") {
      const key = slice(n.start, n.end);
      imageCalls.set(key, (imageCalls.get(key) ?? 0) + 1);
    }
    for (const c of childNodes(n)) count(c);
  };
  count(ast);
  const hoisted = new Map<string, string>();
  let out = slice(0, ast.start) + emit(ast, new Set()) + slice(ast.end, source.length);
  for (const [arg, name] of [...hoisted].reverse()) out = bind(name, imageRefCel(arg), out.trim());
  const problems = nativeCelProblems(out, inScope);
  if (problems.length) throw new NotNative(`has no Kubernetes CEL equivalent for ${problems.join(", ")}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-rule overrides: where a rule's meaning at admission differs from its meaning on rendered manifests.

interface Override {
  /** The rule cannot be enforced natively; why. */
  skip?: string;
  /** Extra matchConditions (name → expression) for this rule's policy. */
  matchConditions?: Array<{ name: string; expression: string }>;
}

const OVERRIDES: Record<string, Override> = {
  // On manifests an empty namespace means "whatever namespace applies it"; at admission the apiserver has
  // already filled metadata.namespace from the request, so the rule could never fire.
  PLAT018: {
    skip: "at admission every namespaced object already has its namespace (the apiserver sets it from the request), so the rule only applies to rendered manifests",
  },
  // Matching every resource, the rule would also deny the control plane's own writes in `default` (Events for
  // Nodes, the `kubernetes` Service and its Endpoints, kube-root-ca.crt, the default ServiceAccount); those
  // come from system users and kube-system controllers, never from a team's delivery.
  PLAT015: {
    matchConditions: [
      {
        name: "not-control-plane",
        expression:
          "!request.userInfo.username.startsWith('system:') || (request.userInfo.username.startsWith('system:serviceaccount:') && !request.userInfo.username.startsWith('system:serviceaccount:kube-system:'))",
      },
    ],
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Matching.

const OPERATIONS = ["CREATE", "UPDATE"];

/** The pod-bearing kinds podspec.ts evaluates, as resource rules. */
function workloadRules(ephemeral: boolean): ResourceRule[] {
  const rule = (apiGroups: string[], resources: string[]): ResourceRule => ({
    apiGroups,
    apiVersions: ["*"],
    operations: [...OPERATIONS],
    resources,
  });
  return [
    // Ephemeral containers arrive through the pods/ephemeralcontainers subresource, not through pods.
    rule(
      [""],
      ["pods", ...(ephemeral ? ["pods/ephemeralcontainers"] : []), "podtemplates", "replicationcontrollers"],
    ),
    rule(["apps"], ["deployments", "statefulsets", "daemonsets", "replicasets"]),
    rule(["batch"], ["jobs", "cronjobs"]),
    rule(["argoproj.io"], ["rollouts"]),
  ];
}

/** API groups of the kinds object-scope rules name; other kinds match in any group. */
const KIND_GROUPS: Record<string, string> = {
  Secret: "",
  Service: "",
  ConfigMap: "",
  ServiceAccount: "",
  Ingress: "networking.k8s.io",
  NetworkPolicy: "networking.k8s.io",
  HTTPRoute: "gateway.networking.k8s.io",
  Namespace: "",
  PeerAuthentication: "security.istio.io",
  AuthorizationPolicy: "security.istio.io",
};

function objectRules(kinds: string[] | undefined): ResourceRule[] {
  if (!kinds)
    return [{ apiGroups: ["*"], apiVersions: ["*"], operations: [...OPERATIONS], resources: ["*"] }];
  return kinds.map((k) => ({
    apiGroups: [KIND_GROUPS[k] ?? "*"],
    apiVersions: ["*"],
    operations: [...OPERATIONS],
    resources: [resourceOf(k)],
  }));
}

/** Where each workload kind keeps its pod template (podspec.ts), as CEL over `object`. */
const POD_TEMPLATE = [
  ["Pod", "object"],
  ["PodTemplate", "object.template"],
  ["CronJob", "object.spec.jobTemplate.spec.template"],
] as const;
const DEFAULT_TEMPLATE = "object.spec.template";

function perKind(of: (template: string) => string): string {
  let expr = of(DEFAULT_TEMPLATE);
  for (const [kind, template] of [...POD_TEMPLATE].reverse())
    expr = `object.kind == '${kind}' ? ${of(template)} : ${expr}`;
  return expr;
}

const optionalPath = (path: string) => path.replace(/\./g, ".?");

// ---------------------------------------------------------------------------------------------------------------

export interface VapExport {
  /** ConfigMap (params) first, then the policies, then their bindings: the order to apply them in. */
  documents: object[];
  yaml: string;
  skipped: Array<{ id: string; reason: string }>;
}

/** The policy (and binding) name for a rule. */
export function vapName(rule: Pick<BuiltinRule, "id" | "name">): string {
  return `platform-${rule.id.toLowerCase()}-${rule.name}`;
}

/**
 * The built-in guardrails as admissionregistration.k8s.io/v1 ValidatingAdmissionPolicies, one per rule, with
 * bindings and one param ConfigMap. Error rules bind with `validationActions` (default Deny); warning rules
 * never deny (Deny becomes Warn). Rules without a native form are listed in `skipped` with the reason.
 */
export function builtinsAsVap(
  params: BuiltinParams,
  opts: {
    rules?: BuiltinRule[];
    validationActions?: Action[];
    /** Namespaces the bindings leave alone (platform.yaml policy.excludedNamespaces). */
    excludedNamespaces?: string[];
    /** Namespace of the param ConfigMap (default kube-system). */
    paramsNamespace?: string;
  } = {},
): VapExport {
  const actions = checkActions(opts.validationActions ?? ["Deny"]);
  const paramsNamespace = opts.paramsNamespace ?? DEFAULT_PARAMS_NAMESPACE;
  const configMap = paramConfigMap(params, paramsNamespace);
  const policies: object[] = [];
  const bindings: object[] = [];
  const skipped: VapExport["skipped"] = [];
  for (const rule of opts.rules ?? BUILTIN_RULES) {
    const override = OVERRIDES[rule.id] ?? {};
    if (override.skip) {
      skipped.push({ id: rule.id, reason: override.skip });
      continue;
    }
    let spec: ReturnType<typeof policySpec>;
    try {
      spec = policySpec(rule, override);
    } catch (err) {
      if (!(err instanceof NotNative)) throw err;
      skipped.push({ id: rule.id, reason: `the rule ${err.message}` });
      continue;
    }
    const name = vapName(rule);
    const metadata = {
      name,
      labels: {
        "app.kubernetes.io/managed-by": "platform",
        "app.kubernetes.io/part-of": "platform-guardrails",
      },
      annotations: {
        "platform/rule": rule.id,
        "platform/title": rule.title,
        "platform/severity": rule.severity,
      },
    };
    policies.push({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata,
      spec: spec.spec,
    });
    const ruleActions =
      rule.severity === "warning" ? [...new Set(actions.map((a) => (a === "Deny" ? "Warn" : a)))] : actions;
    bindings.push({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels: metadata.labels },
      spec: {
        policyName: name,
        validationActions: ruleActions,
        ...(spec.usesParams
          ? { paramRef: { name: PARAMS_NAME, namespace: paramsNamespace, parameterNotFoundAction: "Deny" } }
          : {}),
        ...(opts.excludedNamespaces?.length
          ? {
              matchResources: {
                namespaceSelector: {
                  matchExpressions: [
                    {
                      key: "kubernetes.io/metadata.name",
                      operator: "NotIn",
                      values: [...opts.excludedNamespaces],
                    },
                  ],
                },
              },
            }
          : {}),
      },
    });
  }
  const documents = [configMap, ...policies, ...bindings];
  const header = [
    "# The platform's built-in guardrails as ValidatingAdmissionPolicy (generated by `platform policy export-vap`",
    `# from the rule definitions; do not edit). Needs Kubernetes >= ${TARGET_KUBERNETES}. Apply in order: the param`,
    "# ConfigMap must exist before the bindings (parameterNotFoundAction: Deny).",
    ...skipped.map((s) => `# Not enforced natively: ${s.id}: ${s.reason}`),
  ].join("\n");
  const yaml = `${header}\n${documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n")}`;
  return { documents, yaml, skipped };
}

function checkActions(actions: Action[]): Action[] {
  const valid = new Set(["Deny", "Warn", "Audit"]);
  const unique = [...new Set(actions)];
  if (
    unique.length === 0 ||
    unique.some((a) => !valid.has(a)) ||
    (unique.includes("Deny") && unique.includes("Warn"))
  )
    throw new PlatformError("POLICY_VAP_ACTIONS", `invalid validationActions: [${actions.join(", ")}]`, {
      input: "validation-actions",
      hint: "Use Deny, Warn or Audit (Deny and Warn exclude each other), e.g. Deny or Warn,Audit.",
    });
  return unique;
}

function paramConfigMap(params: BuiltinParams, namespace: string): object {
  const data: Record<string, string> = {};
  for (const key of PARAM_KEYS) {
    const bad = params[key].find((v) => v.includes(",") || v.trim() !== v || v === "");
    if (bad !== undefined)
      throw new PlatformError(
        "POLICY_VAP_PARAMS",
        `${key} value ${JSON.stringify(bad)} cannot go into the param ConfigMap`,
        {
          hint: "ConfigMap values are comma-separated lists; remove commas, blanks and surrounding spaces.",
        },
      );
    data[key] = params[key].join(",");
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: PARAMS_NAME,
      namespace,
      labels: {
        "app.kubernetes.io/managed-by": "platform",
        "app.kubernetes.io/part-of": "platform-guardrails",
      },
    },
    data,
  };
}

/** The policy spec of one rule; throws NotNative when the rule has no native form. */
function policySpec(rule: BuiltinRule, override: Override): { spec: object; usesParams: boolean } {
  const types = rule.containerTypes ?? ["containers", "initContainers", "ephemeralContainers"];
  const ids: Record<string, string> = {
    clusterScoped: "(request.namespace == '')",
    podSpec: "variables.podSpec",
    podMeta: "variables.podMeta",
  };
  const unsupported: Record<string, string> = { ...UNSUPPORTED };
  if (rule.scope === "object") {
    for (const v of ["podSpec", "podMeta", "container", "containerType"])
      unsupported[v] = `is not defined for object-scope rules`;
  } else if (rule.scope === "pod") {
    for (const v of ["container", "containerType"]) unsupported[v] = `is not defined for pod-scope rules`;
  }
  const translate = (src: string, extra: Record<string, string> = {}) =>
    toNative(
      src,
      { ids: { ...ids, ...extra }, unsupported },
      rule.scope === "container" ? ["container"] : [],
    );

  const sources = `${rule.expression}\n${rule.messageExpression}`;
  const uses = (name: string) => new RegExp(`\\b${name}\\b`).test(sources);
  const fix = celString(`. ${rule.fix}`);

  let validation: { expression: string; messageExpression: string };
  if (rule.scope === "container") {
    const byType = uses("containerType");
    // A rule that asks which list a container came from is checked list by list; otherwise over one list.
    const lists = byType
      ? types.map((type) => ({
          list: `variables.podSpec.?${type}.orValue([])`,
          extra: { containerType: `'${type}'` },
        }))
      : [{ list: "variables.containers", extra: {} }];
    const parts = lists.map(({ list, extra }) => ({
      list,
      ok: translate(rule.expression, extra),
      message: translate(rule.messageExpression, extra),
    }));
    validation = {
      expression: parts.map((p) => `${p.list}.all(container, ${p.ok})`).join(" && "),
      // Names every offending container, one message each.
      messageExpression: `(${parts
        .map((p) => `${p.list}.filter(container, !(${p.ok})).map(container, ${p.message})`)
        .join(" + ")}).join('; ') + ${fix}`,
    };
  } else {
    validation = {
      expression: translate(rule.expression),
      messageExpression: `(${translate(rule.messageExpression)}) + ${fix}`,
    };
  }

  const text = `${validation.expression}\n${validation.messageExpression}`;
  const variables: Array<{ name: string; expression: string }> = [];
  for (const key of PARAM_KEYS)
    if (text.includes(`variables.${key}`)) variables.push({ name: key, expression: paramList(key) });
  const usesParams = variables.length > 0;
  const matchConditions = [...(override.matchConditions ?? [])];
  if (rule.scope !== "object") {
    variables.push({ name: "podSpec", expression: perKind((t) => `${t}.spec`) });
    if (text.includes("variables.podMeta"))
      variables.push({
        name: "podMeta",
        expression: perKind((t) => (t === "object" ? "object.metadata" : `${t}.?metadata.orValue({})`)),
      });
    if (text.includes("variables.containers"))
      variables.push({
        name: "containers",
        expression: types.map((type) => `variables.podSpec.?${type}.orValue([])`).join(" + "),
      });
    // Workloads without a pod template of their own (an Argo Rollout with a workloadRef) are not pods to judge.
    matchConditions.unshift({
      name: "has-pod-template",
      expression: perKind((t) => `${optionalPath(`${t}.spec`)}.hasValue()`),
    });
  }
  return {
    usesParams,
    spec: {
      failurePolicy: "Fail",
      ...(usesParams ? { paramKind: { apiVersion: "v1", kind: "ConfigMap" } } : {}),
      matchConstraints: {
        resourceRules:
          rule.scope === "object"
            ? objectRules(rule.kinds)
            : workloadRules(types.includes("ephemeralContainers")),
      },
      ...(matchConditions.length ? { matchConditions } : {}),
      ...(variables.length ? { variables } : {}),
      validations: [
        {
          expression: validation.expression,
          messageExpression: validation.messageExpression,
          message: `${rule.title}. ${rule.fix}`.replace(/\s*\n\s*/g, " "),
          reason: "Forbidden",
        },
      ],
    },
  };
}

/** A ConfigMap value holding a comma-separated list, as a list (empty for an empty or absent value). */
function paramList(key: ParamKey): string {
  return `params.data.?${key}.orValue('') == '' ? [] : params.data.${key}.split(',')`;
}
