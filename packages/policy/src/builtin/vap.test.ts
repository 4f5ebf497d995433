import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isPlatformError, loadConfig, parseImageRef } from "@platform/core";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { authorizationPolicySpecs, PEER_AUTHENTICATION_SPECS } from "../../../../test/fixtures/istio.ts";
import { DIGEST, goodContainer } from "../../../../test/fixtures/pods.ts";
import { classify, readObjects } from "../admission/documents.ts";
import { compileVaps } from "../admission/vap.ts";
import { createCelEngine } from "../cel/engine.ts";
import { type BuiltinParams, builtinParams, compileBuiltins, evaluateAll } from "../evaluate.ts";
import { isClusterScoped } from "../podspec.ts";
import type { KubeObject, LoadedObject, PolicyResult, Verdict } from "../types.ts";
import { BUILTIN_RULES, type BuiltinRule } from "./rules.ts";
import { builtinsAsVap, imageRefCel, nativeCelProblems, vapName } from "./vap.ts";

const engine = createCelEngine();
const params: BuiltinParams = {
  trustedRegistries: [
    "acr.azurecr.io",
    "mcr.microsoft.com/oss",
    "localhost:5000",
    "docker.io/library",
    "[::1]:5000",
  ],
  allowedCapabilities: ["NET_BIND_SERVICE"],
  teamNamespaces: ["team"],
  mesh: "istio" as const,
  declaredCallers: ["team|shop/orders", "shop|team/web"],
};
const EXCLUDED = ["kube-system"];

const loaded = (obj: KubeObject): LoadedObject => ({
  obj,
  source: { file: "m.yaml", line: 1 },
  locate: () => undefined,
});

// ---------------------------------------------------------------------------------------------------------------
// Manifests: the shapes of rules.test.ts, every pod spec in every workload kind.

function withSc(sc: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  const c = goodContainer(over);
  c.securityContext = { ...(c.securityContext as object), ...sc };
  return c;
}

const podSpec = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  containers: [goodContainer()],
  ...over,
});

/** Images of every form: short names, registries with ports, tag + digest, prefixes on path boundaries. */
const IMAGES = [
  `acr.azurecr.io/team/app@${DIGEST}`,
  `acr.azurecr.io/team/app:1.0@${DIGEST}`,
  "acr.azurecr.io/team/app:1.0",
  "acr.azurecr.io/team/app",
  "acr.azurecr.io/team/app:latest",
  "acr.azurecr.io/a@sha256:abc",
  "acr.azurecr.io/a:",
  "acr.azurecr.io/a@",
  `acr.azurecr.io/Team/app@${DIGEST}`,
  `ACR.azurecr.io/team/app@${DIGEST}`,
  `acr.azurecr.io:5000/team/app@${DIGEST}`,
  `acr.azurecr.io.attacker.net/team/app@${DIGEST}`,
  `localhost:5000/app@${DIGEST}`,
  `localhost:5000/app:2`,
  `localhost/app@${DIGEST}`,
  `[::1]:5000/app@${DIGEST}`,
  `mcr.microsoft.com/oss/nginx/nginx@${DIGEST}`,
  `mcr.microsoft.com/oss@${DIGEST}`,
  `mcr.microsoft.com/ossevil/x@${DIGEST}`,
  `mcr.microsoft.com/oss/x:1.2.3`,
  "nginx",
  "nginx:1.25",
  `nginx@${DIGEST}`,
  `library/nginx@${DIGEST}`,
  `docker.io/library/nginx@${DIGEST}`,
  `docker.io/nginx@${DIGEST}`,
  `index.docker.io/library/nginx@${DIGEST}`,
  `registry-1.docker.io/nginx:1@${DIGEST}`,
  `Docker.IO/nginx@${DIGEST}`,
  `docker.io/bitnami/redis@${DIGEST}`,
  `bitnami/redis@${DIGEST}`,
  `a/b/c@${DIGEST}`,
  `  acr.azurecr.io/team/app@${DIGEST}  `,
  "",
  `acr.azurecr.io/team/app:${"t".repeat(129)}`,
  `acr.azurecr.io/te--am/a__b.c@${DIGEST}`,
  `acr.azurecr.io/-bad@${DIGEST}`,
  `acr.azurecr.io/team/app@sha512:${"b".repeat(128)}`,
  `acr.azurecr.io/team/app@SHA256:${"a".repeat(64)}`,
];

const POD_SPECS: Array<[string, Record<string, unknown>]> = [
  ["compliant", podSpec()],
  ...IMAGES.map((image): [string, Record<string, unknown>] => [
    `image ${JSON.stringify(image)}`,
    podSpec({ containers: [goodContainer({ image })] }),
  ]),
  // run-as-non-root: pod vs container precedence
  [
    "pod runAsUser 1000",
    podSpec({ securityContext: { runAsUser: 1000n, seccompProfile: { type: "RuntimeDefault" } } }),
  ],
  ["container runAsUser 0 overrides pod runAsNonRoot", podSpec({ containers: [withSc({ runAsUser: 0n })] })],
  ["container runAsNonRoot false overrides pod", podSpec({ containers: [withSc({ runAsNonRoot: false })] })],
  [
    "container runAsNonRoot over empty pod",
    podSpec({
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      containers: [withSc({ runAsNonRoot: true })],
    }),
  ],
  [
    "container runAsUser 10 over pod runAsUser 0",
    podSpec({
      securityContext: { runAsUser: 0n, seccompProfile: { type: "RuntimeDefault" } },
      containers: [withSc({ runAsUser: 10n })],
    }),
  ],
  [
    "pod runAsUser 0",
    podSpec({ securityContext: { runAsUser: 0n, seccompProfile: { type: "RuntimeDefault" } } }),
  ],
  ["nothing set", podSpec({ securityContext: {} })],
  // seccomp
  [
    "container Localhost",
    podSpec({
      securityContext: { runAsNonRoot: true },
      containers: [withSc({ seccompProfile: { type: "Localhost", localhostProfile: "p.json" } })],
    }),
  ],
  [
    "container Unconfined overrides pod",
    podSpec({ containers: [withSc({ seccompProfile: { type: "Unconfined" } })] }),
  ],
  ["container seccomp without type", podSpec({ containers: [withSc({ seccompProfile: {} })] })],
  ["no seccomp", podSpec({ securityContext: { runAsNonRoot: true } })],
  // capabilities
  [
    "add allowed",
    podSpec({ containers: [withSc({ capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } })] }),
  ],
  [
    "add SYS_ADMIN",
    podSpec({ containers: [withSc({ capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "NET_RAW"] } })] }),
  ],
  ["drop NET_RAW only", podSpec({ containers: [withSc({ capabilities: { drop: ["NET_RAW"] } })] })],
  ["no capabilities", podSpec({ containers: [withSc({ capabilities: undefined })] })],
  // privileged, escalation, read-only root
  ["privileged only", podSpec({ containers: [goodContainer({ securityContext: { privileged: true } })] })],
  ["privileged false", podSpec({ containers: [withSc({ privileged: false })] })],
  ["escalation true", podSpec({ containers: [withSc({ allowPrivilegeEscalation: true })] })],
  ["writable root", podSpec({ containers: [withSc({ readOnlyRootFilesystem: false })] })],
  // resources
  [
    "partial resources",
    podSpec({
      containers: [goodContainer({ resources: { requests: { cpu: "1" }, limits: { memory: "1Gi" } } })],
    }),
  ],
  ["no resources", podSpec({ containers: [goodContainer({ resources: undefined })] })],
  // ephemeral containers: exempt from read-only root, resources and host ports, not from the rest
  [
    "ephemeral debug container",
    podSpec({ ephemeralContainers: [{ name: "dbg", image: `acr.azurecr.io/dbg@${DIGEST}` }] }),
  ],
  ["ephemeral untrusted image", podSpec({ ephemeralContainers: [{ name: "dbg", image: "busybox:1" }] })],
  [
    "ephemeral hardened",
    podSpec({
      ephemeralContainers: [
        {
          ...goodContainer({ name: "dbg" }),
          resources: undefined,
          ports: [{ containerPort: 1, hostPort: 9n }],
        },
      ],
    }),
  ],
  // init containers and several offenders
  [
    "bad init container",
    podSpec({
      initContainers: [
        goodContainer({ name: "init", image: "acr.azurecr.io/i:1", securityContext: { privileged: true } }),
      ],
    }),
  ],
  [
    "two offending containers",
    podSpec({
      containers: [
        goodContainer({ name: "a", image: "nginx" }),
        goodContainer(),
        withSc({ privileged: true, allowPrivilegeEscalation: true }, { name: "c", image: "quay.io/x/y:1" }),
      ],
    }),
  ],
  // host namespaces, paths, ports
  ["hostNetwork", podSpec({ hostNetwork: true })],
  ["hostPID + hostIPC", podSpec({ hostPID: true, hostIPC: true })],
  ["hostIPC false", podSpec({ hostIPC: false })],
  [
    "hostPath",
    podSpec({
      volumes: [
        { name: "ok", emptyDir: {} },
        { name: "h", hostPath: { path: "/" } },
      ],
    }),
  ],
  ["emptyDir only", podSpec({ volumes: [{ name: "ok", emptyDir: {} }] })],
  ["hostPort", podSpec({ containers: [goodContainer({ ports: [{ containerPort: 80, hostPort: 8080n }] })] })],
  ["hostPort 0", podSpec({ containers: [goodContainer({ ports: [{ containerPort: 80, hostPort: 0n }] })] })],
  ["container port only", podSpec({ containers: [goodContainer({ ports: [{ containerPort: 80 }] })] })],
  // workload identity (skipped natively) and odd shapes
  ["workload identity", podSpec({ serviceAccountName: "app" })],
  ["no containers", podSpec({ containers: [] })],
  ["image is a number", podSpec({ containers: [goodContainer({ image: 42n })] })],
];

let counter = 0;
function inEveryKind(spec: Record<string, unknown>, ns = "team"): KubeObject[] {
  const meta = () => ({ name: `o${++counter}`, namespace: ns });
  const template = { metadata: { labels: { app: "x", "azure.workload.identity/use": "true" } }, spec };
  const workload = (apiVersion: string, kind: string): KubeObject => ({
    apiVersion,
    kind,
    metadata: meta(),
    spec: { template },
  });
  return [
    { apiVersion: "v1", kind: "Pod", metadata: { ...meta(), labels: template.metadata.labels }, spec },
    { apiVersion: "v1", kind: "PodTemplate", metadata: meta(), template },
    workload("v1", "ReplicationController"),
    workload("apps/v1", "Deployment"),
    workload("apps/v1", "StatefulSet"),
    workload("apps/v1", "DaemonSet"),
    workload("apps/v1", "ReplicaSet"),
    workload("batch/v1", "Job"),
    workload("argoproj.io/v1alpha1", "Rollout"),
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(),
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } },
    },
  ];
}

const secret = (
  ns: string | undefined,
  data: Record<string, string>,
  type?: string,
  field = "stringData",
): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `o${++counter}`, ...(ns === undefined ? {} : { namespace: ns }) },
  ...(type ? { type } : {}),
  [field]: data,
});
const object = (
  apiVersion: string,
  kind: string,
  ns?: string,
  extra: Record<string, unknown> = {},
): KubeObject => {
  const { metadata, ...rest } = extra as { metadata?: Record<string, unknown> };
  return {
    apiVersion,
    kind,
    metadata: { name: `o${++counter}`, ...(ns === undefined ? {} : { namespace: ns }), ...metadata },
    ...rest,
  };
};

const OBJECTS: KubeObject[] = [
  ...POD_SPECS.flatMap(([, spec]) => inEveryKind(spec)),
  // the default namespace, and an excluded namespace where everything is allowed
  ...inEveryKind(podSpec({ hostNetwork: true }), "default"),
  ...inEveryKind(
    podSpec({ hostNetwork: true, containers: [goodContainer({ image: "nginx" })] }),
    "kube-system",
  ),
  // workloads without a pod template of their own, and a Rollout that is not Argo's
  object("argoproj.io/v1alpha1", "Rollout", "team", {
    spec: { workloadRef: { kind: "Deployment", name: "d" } },
  }),
  object("example.com/v1", "Rollout", "team", {
    spec: { template: { spec: podSpec({ hostNetwork: true }) } },
  }),
  // Secrets
  secret("team", { API_KEY: "x" }),
  secret("team", { "client-secret": "x" }),
  secret("team", { Password: "eA==" }, undefined, "data"),
  secret("team", { HOST: "db" }),
  secret("other", { password: "x" }),
  secret("team", { "tls.key": "x", "tls.crt": "y" }, "kubernetes.io/tls"),
  secret("team", { token: "x" }, "kubernetes.io/service-account-token"),
  secret("team", { token: "x" }, "Opaque"),
  secret("default", { "connection-string": "x" }),
  // namespaces
  object("v1", "ConfigMap", "default"),
  object("v1", "ConfigMap", "team"),
  object("v1", "ConfigMap"),
  object("v1", "Namespace", undefined, { metadata: { name: "team" } }),
  object("rbac.authorization.k8s.io/v1", "ClusterRole"),
  // Services
  object("v1", "Service", "team", { spec: { type: "LoadBalancer" } }),
  object("v1", "Service", "team", {
    metadata: { annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" } },
    spec: { type: "LoadBalancer" },
  }),
  object("v1", "Service", "team", {
    metadata: { annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": "false" } },
    spec: { type: "LoadBalancer" },
  }),
  object("v1", "Service", "team", { spec: { type: "ClusterIP" } }),
  object("v1", "Service", "team", {}),
  // Ingress
  object("networking.k8s.io/v1", "Ingress", "team"),
  object("networking.k8s.io/v1", "Ingress", "default"),
  // Istio mesh policies
  ...authorizationPolicySpecs("team", "shop").map((spec) =>
    object("security.istio.io/v1", "AuthorizationPolicy", "team", { spec }),
  ),
  ...PEER_AUTHENTICATION_SPECS.map((spec) =>
    object("security.istio.io/v1", "PeerAuthentication", "team", { spec }),
  ),
];

// ---------------------------------------------------------------------------------------------------------------

const RANK: Record<Verdict, number> = { pass: 0, skip: 0, warn: 1, fail: 2, error: 3 };
const key = (r: Pick<PolicyResult, "kind" | "namespace" | "name">) => `${r.kind}/${r.namespace}/${r.name}`;

/** One verdict per (rule id, object): the worst of the rows; no row is a pass (the rule does not apply). */
function verdicts(
  results: PolicyResult[],
  ruleOf: (policy: string) => string | undefined,
): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (const r of results) {
    const id = ruleOf(r.policy);
    if (!id) continue;
    const k = `${id} ${key(r)}`;
    const prev = out.get(k) ?? "pass";
    if (RANK[r.verdict] >= RANK[prev]) out.set(k, r.verdict);
  }
  return out;
}

function loadYaml(text: string): LoadedObject[] {
  return parseAllDocuments(text).map((d) => loaded(d.toJS() as KubeObject));
}

/** Both forms on the same objects: the built-ins as the dry-run runs them, the exported YAML through the VAP engine. */
function bothForms(objects: KubeObject[], p: BuiltinParams, rules?: BuiltinRule[]) {
  const exported = builtinsAsVap(p, { excludedNamespaces: EXCLUDED, ...(rules ? { rules } : {}) });
  const objs = objects.map(loaded);
  const builtin = evaluateAll(objs, compileBuiltins(p, { engine, ...(rules ? { rules } : {}) }), {
    excludedNamespaces: EXCLUDED,
  });
  const docs = classify(loadYaml(exported.yaml));
  const { policies, notes } = compileVaps(docs.vaps, docs.bindings, engine);
  expect(notes).toEqual([]);
  // Namespace exclusion must come from the bindings' namespaceSelector, so the VAP run gets no excludedNamespaces.
  const vap = evaluateAll(objs, policies, { extra: docs.others });
  const byName = new Map((rules ?? BUILTIN_RULES).map((r) => [vapName(r), r.id]));
  return {
    exported,
    builtinRows: builtin,
    vapRows: vap,
    builtin: verdicts(builtin, (p) => p.split("/")[0]),
    vap: verdicts(vap, (p) => byName.get(p)),
  };
}

describe("built-in guardrails as ValidatingAdmissionPolicy", () => {
  const run = bothForms(OBJECTS, params);
  const translated = BUILTIN_RULES.filter((r) => !run.exported.skipped.some((s) => s.id === r.id));

  it("skips exactly the rules that need the render or only make sense on manifests", () => {
    const skipped = new Map(run.exported.skipped.map((s) => [s.id, s.reason]));
    expect([...skipped.keys()]).toEqual([
      "PLAT013",
      "PLAT018",
      "PLAT019",
      "PLAT020",
      "PLAT024",
      "PLAT025",
      "PLAT026",
    ]);
    expect(skipped.get("PLAT013")).toContain("serviceAccounts");
    expect(skipped.get("PLAT018")).toContain("namespace");
    for (const id of ["PLAT019", "PLAT020", "PLAT024", "PLAT026"])
      expect(skipped.get(id)).toContain("`render`");
    expect(skipped.get("PLAT025")).toContain("serviceAccounts");
  });

  it("gives the same verdict as the built-ins for every (rule, object)", () => {
    const disagreements: string[] = [];
    let compared = 0;
    const seen = new Map<string, Set<Verdict>>();
    for (const rule of translated) {
      for (const obj of OBJECTS) {
        const k = `${rule.id} ${key({ kind: obj.kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" })}`;
        const want = run.builtin.get(k) ?? "pass";
        const got = run.vap.get(k) ?? "pass";
        compared++;
        // A manifest without a namespace: the built-ins leave it to PLAT018 (it lands wherever it is applied);
        // admitted by a client that fills `default`, the exported PLAT015 denies it, as the cluster would.
        if (rule.id === "PLAT015" && !obj.metadata.namespace && !isClusterScoped(obj)) {
          expect([want, got], k).toEqual(["pass", "fail"]);
          continue;
        }
        if (want !== got) disagreements.push(`${k}: built-in ${want}, VAP ${got}`);
        const s = seen.get(rule.id) ?? new Set();
        s.add(want);
        seen.set(rule.id, s);
      }
    }
    console.log(
      `verdict agreement: ${compared - disagreements.length}/${compared} (rule, object) pairs, ${translated.length} rules × ${OBJECTS.length} objects`,
    );
    expect(disagreements).toEqual([]);
    // The corpus exercises every translated rule both ways.
    for (const rule of translated) {
      const s = seen.get(rule.id)!;
      expect(s.has("pass"), `${rule.id} passes somewhere`).toBe(true);
      expect(s.has("fail") || s.has("warn"), `${rule.id} fails somewhere`).toBe(true);
    }
  });

  it("names the offending container with the built-in's message", () => {
    const byName = new Map(BUILTIN_RULES.map((r) => [vapName(r), r.id]));
    const single = new Map<string, PolicyResult[]>();
    for (const r of run.builtinRows.filter((x) => x.verdict === "fail" || x.verdict === "warn")) {
      const k = `${r.policy.split("/")[0]} ${key(r)}`;
      single.set(k, [...(single.get(k) ?? []), r]);
    }
    let checked = 0;
    for (const r of run.vapRows.filter((x) => x.verdict === "fail" || x.verdict === "warn")) {
      const rows = single.get(`${byName.get(r.policy)} ${key(r)}`) ?? [];
      if (rows.length === 1) {
        expect(r.message).toBe(rows[0]!.message);
        checked++;
      } else
        expect(rows.map((x) => x.message.split(". ")[0]).every((m) => r.message.includes(m!))).toBe(true);
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("leaves excluded namespaces alone through the bindings' namespaceSelector", () => {
    const inKubeSystem = run.vapRows.filter((r) => r.namespace === "kube-system");
    expect(inKubeSystem).toEqual([]);
  });

  it("emits well-formed admissionregistration.k8s.io/v1 documents", () => {
    const docs = run.exported.documents as KubeObject[];
    expect(docs[0]).toMatchObject({
      kind: "ConfigMap",
      data: {
        trustedRegistries: params.trustedRegistries.join(","),
        allowedCapabilities: "NET_BIND_SERVICE",
        teamNamespaces: "team",
        declaredCallers: "team|shop/orders,shop|team/web",
      },
    });
    const policies = docs.filter((d) => d.kind === "ValidatingAdmissionPolicy");
    const bindings = docs.filter((d) => d.kind === "ValidatingAdmissionPolicyBinding");
    expect(policies.map((p) => p.metadata.name)).toEqual(translated.map(vapName));
    expect(bindings.map((b) => (b.spec as { policyName: string }).policyName)).toEqual(
      translated.map(vapName),
    );
    for (const b of bindings) {
      const spec = b.spec as { validationActions: string[]; paramRef?: { parameterNotFoundAction?: string } };
      const rule = translated.find((r) => vapName(r) === b.metadata.name)!;
      expect(spec.validationActions.length).toBeGreaterThan(0);
      expect(spec.validationActions.every((a) => ["Deny", "Warn", "Audit"].includes(a))).toBe(true);
      expect(spec.validationActions).toEqual(rule.severity === "warning" ? ["Warn"] : ["Deny"]);
      if (spec.paramRef) expect(spec.paramRef.parameterNotFoundAction).toBe("Deny");
    }
    for (const p of policies) {
      const spec = p.spec as {
        paramKind?: unknown;
        validations: unknown[];
        variables?: Array<{ expression: string }>;
      };
      expect(spec.validations).toHaveLength(1);
      // paramKind only where params are read, so a missing ConfigMap cannot block unrelated rules.
      expect(!!spec.paramKind).toBe(JSON.stringify(spec).includes("params.data"));
    }
  });

  it("uses only the Kubernetes CEL environment: no image(), no cel.bind, no evaluator variables", () => {
    const expressions = celOf(run.exported.documents);
    expect(expressions.length).toBeGreaterThan(40);
    for (const e of expressions) {
      expect(nativeCelProblems(e), e).toEqual([]);
      expect(e).not.toMatch(
        /(^|[^.\w])image\s*\(|cel\s*\.\s*bind|\bpodSpec\b(?<!variables\.podSpec)|\bclusterScoped\b/,
      );
      expect(() => engine.compile(e)).not.toThrow();
      expect(e).not.toContain("\n");
    }
  });

  it("round-trips through YAML", () => {
    expect(parseAllDocuments(run.exported.yaml).map((d) => d.toJS())).toEqual(run.exported.documents);
    expect(run.exported.yaml).not.toMatch(/[&*]a\d/); // no anchors or aliases
  });
});

function celOf(documents: object[]): string[] {
  const out: string[] = [];
  for (const d of documents as Array<{ spec?: Record<string, unknown> }>) {
    const spec = d.spec ?? {};
    for (const c of (spec.matchConditions as Array<{ expression: string }>) ?? []) out.push(c.expression);
    for (const v of (spec.variables as Array<{ expression: string }>) ?? []) out.push(v.expression);
    for (const v of (spec.validations as Array<{ expression: string; messageExpression?: string }>) ?? []) {
      out.push(v.expression);
      if (v.messageExpression) out.push(v.messageExpression);
    }
  }
  return out;
}

describe("image references in pure CEL", () => {
  const native = engine.compile(imageRefCel("s"));
  const ours = engine.compile("image(s)");
  it.each(
    IMAGES.concat([
      "a:b:c",
      "x/y:z/w",
      "localhost",
      "[::1]/a",
      "host.io:5000",
      "@sha256:x",
      "A",
      "UPPER/case",
      ` acr.io/app@${DIGEST}`,
      `host:abc/app@${DIGEST}`,
      `host:99999/app@${DIGEST}`,
      `acr.io/app@sha256:${"a".repeat(32)}`,
      `acr.io/app@sha256:${"A".repeat(64)}`,
      `acr.io/app@md5:${"a".repeat(32)}`,
      "a".repeat(64),
      `a.io/${"x".repeat(252)}`,
    ]),
  )("parses %j as image() does", (s) => {
    expect(native.eval({ s })).toEqual(ours.eval({ s }));
    const r = parseImageRef(s);
    expect(native.eval({ s })).toMatchObject({
      registry: r.registry,
      repository: r.repository,
      valid: String(r.valid),
    });
  });
});

describe("nativeCelProblems", () => {
  it.each([
    ["image(object.spec.image).tag == ''", "function image()"],
    ["cel.bind(x, 1, x > 0)", "function cel.bind()"],
    ["podSpec.hostNetwork", "unknown variable podSpec"],
    ["object.spec.containers.all(i, c, c.name != '')", "two-variable all() (Kubernetes 1.32+)"],
    ["object.metadata.name.reverse() == ''", "function .reverse()"],
  ])("flags %s", (expr, problem) => {
    expect(nativeCelProblems(expr)).toContain(problem);
  });
  it("accepts the Kubernetes libraries and comprehension variables", () => {
    expect(
      nativeCelProblems(
        "object.spec.containers.all(c, c.image.find('[a-z]+') != '' && quantity(c.resources.limits.cpu).isLessThan(quantity('2'))) && optional.of(1).hasValue() && sets.contains([1], [1]) && variables.x.split(',').size() > 0",
      ),
    ).toEqual([]);
  });
});

describe("translation of other rules", () => {
  const custom = (over: Partial<BuiltinRule>): BuiltinRule => ({
    ...BUILTIN_RULES.find((r) => r.id === "PLAT005")!,
    id: "TEST001",
    name: "custom",
    ...over,
  });

  it("skips a rule that calls a function Kubernetes lacks, naming it", () => {
    const { skipped, documents } = builtinsAsVap(params, {
      rules: [custom({ expression: "container.name.reverse() != ''" })],
    });
    expect(documents).toHaveLength(1);
    expect(skipped).toEqual([{ id: "TEST001", reason: expect.stringContaining("function .reverse()") }]);
  });

  it("checks a rule that asks for containerType list by list, with the same verdicts", () => {
    const rule = custom({
      expression: "containerType != 'initContainers' || container.name.startsWith('init-')",
      messageExpression: "'init container \"' + container.name + '\" is not named init-*'",
    });
    const objects = [
      ...inEveryKind(podSpec({ initContainers: [goodContainer({ name: "setup" })] })),
      ...inEveryKind(podSpec({ initContainers: [goodContainer({ name: "init-db" })] })),
    ];
    const r = bothForms(objects, params, [rule]);
    expect(r.exported.skipped).toEqual([]);
    expect([...r.vap.values()].filter((v) => v === "fail")).toHaveLength(10);
    expect(r.vap).toEqual(r.builtin);
  });

  it("rejects validationActions the apiserver would", () => {
    for (const actions of [[], ["Deny", "Warn"], ["Block"]] as Array<Array<"Deny" | "Warn" | "Audit">>) {
      let err: unknown;
      try {
        builtinsAsVap(params, { validationActions: actions });
      } catch (e) {
        err = e;
      }
      expect(isPlatformError(err, "POLICY_VAP_ACTIONS")).toBe(true);
    }
  });

  it("never lets a warning rule deny", () => {
    const { documents } = builtinsAsVap(params, { validationActions: ["Deny", "Audit"] });
    const ingress = (documents as KubeObject[]).find(
      (d) => d.kind === "ValidatingAdmissionPolicyBinding" && d.metadata.name?.includes("prefer-gateway-api"),
    );
    expect((ingress!.spec as { validationActions: string[] }).validationActions).toEqual(["Warn", "Audit"]);
  });
});

describe("Northwind example", () => {
  it("gives the same verdicts in both forms on the storefront manifests", async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "../../../../examples/northwind");
    const { config } = await loadConfig(join(root, "platform.yaml"), { explicit: true });
    const objects = await readObjects(join(root, "config-repo/apps/storefront/deployment.yaml"));
    const r = bothForms(
      objects.map((o) => o.obj),
      builtinParams(config),
    );
    const skipped = new Set(r.exported.skipped.map((s) => s.id));
    const native = new Map([...r.builtin].filter(([k]) => !skipped.has(k.split(" ")[0]!)));
    expect(r.vap).toEqual(native);
    const failing = [...r.vap].filter(([, v]) => v === "fail").map(([k]) => k.split(" ")[0]);
    expect(failing).toEqual(expect.arrayContaining(["PLAT002", "PLAT005", "PLAT009", "PLAT011", "PLAT016"]));
  });
});
