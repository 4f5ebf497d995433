// Differential test: the defaults `policy check` applies before admission (packages/policy/src/admission/
// defaults.ts) against the real kube-apiserver's. Every object is created with ?dryRun=All; the server answers
// with the object as it went through decoding, defaulting and the create strategy, which is what validating
// admission (VAP, PSA) judged. Each field of the answer must equal ours, except the few the server fills from
// its own state (listed in IGNORED with the reason).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mapLimit } from "@platform/core";
import { beforeAll, describe, expect, it } from "vitest";
import { admittedObject } from "../../packages/policy/src/admission/defaults.ts";
import { type KubeObject, useApiServer } from "../harness/apiserver.ts";
import { REPO_ROOT } from "../peers/index.ts";
import { corpus } from "./apiserver/corpus.ts";

const kas = await useApiServer();
const NS = "defaults-diff";

/** Paths the server fills from its own state (identity, clocks, allocators), not from defaulting. */
const IGNORED: Array<[RegExp, string]> = [
  [
    /^metadata\.(uid|creationTimestamp|resourceVersion|generation|managedFields)(\.|\[|$)/,
    "server identity and clocks",
  ],
  [/^status(\.|$)/, "status is the controllers', reset on create"],
  [/^spec\.(clusterIP|clusterIPs|ipFamilies|ipFamilyPolicy)(\.|\[|$)/, "the Service IP allocator"],
  [/^spec\.ports\[\d+\]\.nodePort$/, "the NodePort allocator"],
  [/controller-uid/, "a Job's generated selector carries its uid"],
];

const app = (name: string) => ({ matchLabels: { app: name } });
const container = (extra: Record<string, unknown> = {}) => ({
  name: "app",
  image: "registry.example.com/app:1",
  ...extra,
});
const template = (name: string, spec: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: name } },
  spec: { containers: [container()], ...spec },
});

/** The kinds admission policies read, each bare (every default applies) and, where they differ, richer. */
function kinds(): KubeObject[] {
  const meta = (name: string) => ({ name, namespace: NS });
  const probes = {
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    readinessProbe: { tcpSocket: { port: 8080 } },
    startupProbe: { exec: { command: ["true"] } },
    ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: "UDP" }],
    env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    volumeMounts: [{ name: "s", mountPath: "/s" }],
  };
  const volumes = [
    { name: "s", secret: { secretName: "s" } },
    { name: "c", configMap: { name: "c" } },
    { name: "d", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
    { name: "p", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
    { name: "e", emptyDir: {} },
    { name: "h", hostPath: { path: "/var/log" } },
    { name: "v", persistentVolumeClaim: { claimName: "data" } },
  ];
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("bare"),
      spec: { selector: app("bare"), template: template("bare") },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("rich"),
      spec: {
        replicas: 3,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } },
        selector: app("rich"),
        template: template("rich", {
          containers: [container(probes)],
          volumes,
          initContainers: [container({ name: "init" })],
        }),
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("recreate"),
      spec: { strategy: { type: "Recreate" }, selector: app("recreate"), template: template("recreate") },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("bare"),
      spec: { selector: app("sts"), serviceName: "sts", template: template("sts") },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("claims"),
      spec: {
        selector: app("claims"),
        serviceName: "claims",
        updateStrategy: { type: "RollingUpdate" },
        template: template("claims"),
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
          },
        ],
      },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta("bare"),
      spec: { selector: app("ds"), template: template("ds") },
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: meta("bare"),
      spec: { selector: app("rs"), template: template("rs") },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta("bare"),
      spec: { template: { spec: { restartPolicy: "Never", containers: [container()] } } },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta("bare"),
      spec: {
        schedule: "0 * * * *",
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "OnFailure", containers: [container()] } } },
        },
      },
    },
    { apiVersion: "v1", kind: "Pod", metadata: meta("bare"), spec: { containers: [container()] } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: meta("rich"),
      spec: {
        containers: [container({ ...probes, resources: { limits: { cpu: "1", memory: "1Gi" } } })],
        volumes,
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("bare"),
      spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("node-port"),
      spec: { type: "NodePort", selector: { app: "x" }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("lb"),
      spec: { type: "LoadBalancer", selector: { app: "x" }, ports: [{ port: 443 }] },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta("data"),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("c"), data: { a: "1" } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("s"), stringData: { a: "1" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("sa") },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("deny"),
      spec: { podSelector: {} },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("ports"),
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }], egress: [{ ports: [{ port: 53 }] }] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("web"),
      spec: {
        rules: [
          {
            host: "a.example.com",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta("pdb"),
      spec: { minAvailable: 1, selector: app("x") },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("hpa"),
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "x" }, maxReplicas: 5 },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta("r"),
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    },
  ] as KubeObject[];
}

type Leaf = { path: string; value: unknown };

/** Every leaf (scalar, empty object or empty list) under `v`, with a dotted path (`a.b[0].c`). */
function leaves(v: unknown, path = "", out: Leaf[] = []): Leaf[] {
  if (Array.isArray(v)) {
    if (v.length === 0) out.push({ path, value: [] });
    for (const [i, x] of v.entries()) leaves(x, `${path}[${i}]`, out);
  } else if (v && typeof v === "object") {
    const entries = Object.entries(v);
    if (entries.length === 0) out.push({ path, value: {} });
    for (const [k, x] of entries) leaves(x, path ? `${path}.${k}` : k, out);
  } else out.push({ path, value: v });
  return out;
}

const ignored = (path: string) => IGNORED.some(([re]) => re.test(path));
// The token volume's name has a random suffix (ours writes a fixed stand-in).
const token = (v: unknown) =>
  typeof v === "string" && /^kube-api-access-[a-z0-9]{5}$/.test(v) ? "kube-api-access-*" : v;
const same = (a: unknown, b: unknown) => JSON.stringify(token(a)) === JSON.stringify(token(b));

/** The fields where ours and the server's object differ (missing on one side, or another value). */
function differences(server: KubeObject, ours: KubeObject): string[] {
  const s = new Map(
    leaves(server)
      .filter((l) => !ignored(l.path))
      .map((l) => [l.path, l.value]),
  );
  const o = new Map(
    leaves(ours)
      .filter((l) => !ignored(l.path))
      .map((l) => [l.path, l.value]),
  );
  const out: string[] = [];
  for (const [p, v] of s)
    if (!o.has(p)) out.push(`${p}: server ${JSON.stringify(v)}, ours absent`);
    else if (!same(v, o.get(p)))
      out.push(`${p}: server ${JSON.stringify(v)}, ours ${JSON.stringify(o.get(p))}`);
  for (const [p, v] of o) if (!s.has(p)) out.push(`${p}: server absent, ours ${JSON.stringify(v)}`);
  return out;
}

describe.skipIf(!kas.ok)("defaulting: admittedObject vs the real kube-apiserver (dry-run create)", () => {
  const k = kas.client!;
  beforeAll(async () => {
    await k.namespace(NS);
  });

  it("gives every field the server's value before admission", async () => {
    // The VAP corpus's workloads too (renamed into this namespace): pod specs of every shape.
    const objects = [
      ...kinds(),
      ...corpus()
        .map((c) => c.obj as KubeObject)
        .filter((o) =>
          [
            "Deployment",
            "Pod",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "CronJob",
            "ReplicaSet",
            "Service",
          ].includes(o.kind),
        )
        .map((o, i) => ({ ...o, metadata: { ...o.metadata, name: `c${i}`, namespace: NS } })),
    ];
    const rows = await mapLimit(objects, 8, async (obj) => {
      const r = await k.create(obj, { dryRun: true });
      if (!r.allowed) return { obj, refused: `${r.status} ${r.message}`, diffs: [] as string[] };
      return {
        obj,
        refused: undefined,
        diffs: differences(r.body as KubeObject, admittedObject(obj as never) as KubeObject),
      };
    });
    const admitted = rows.filter((r) => !r.refused);
    const differ = admitted.filter((r) => r.diffs.length > 0);
    const byField = new Map<string, number>();
    const example = new Map<string, string>();
    for (const r of differ)
      for (const d of r.diffs) {
        const key = `${r.obj.kind} ${d.replace(/\[\d+\]/g, "[*]").replace(/: server.*/, "")}`;
        byField.set(key, (byField.get(key) ?? 0) + 1);
        if (!example.has(key)) example.set(key, `${r.obj.metadata?.name}: ${d}`);
      }
    const summary = {
      objects: objects.length,
      admitted: admitted.length,
      refused: rows.length - admitted.length,
      agree: admitted.length - differ.length,
      differ: differ.length,
      fields: Object.fromEntries([...byField].sort()),
      examples: differ
        .slice(0, 20)
        .map((r) => ({ kind: r.obj.kind, name: r.obj.metadata?.name, diffs: r.diffs.slice(0, 10) })),
      ignored: IGNORED.map(([re, why]) => `${re.source}: ${why}`),
    };
    console.log(
      `defaults differential: ${summary.objects} objects, ${summary.admitted} admitted (${summary.refused} refused by validation), agree ${summary.agree}, differ ${summary.differ}\n${[...byField].map(([f, n]) => `DIFFER ${f} (${n}) e.g. ${example.get(f)}`).join("\n")}`,
    );
    mkdirSync(join(REPO_ROOT, "test-results"), { recursive: true });
    writeFileSync(
      join(REPO_ROOT, "test-results", "apiserver-defaults.json"),
      `${JSON.stringify(summary, null, 2)}\n`,
    );
    expect(admitted.length).toBeGreaterThan(kinds().length);
    expect(summary.fields).toEqual({});
  }, 300_000);
});
