// `platform team render` against the real kube-apiserver: every object the render writes — for Northwind and
// for seeded random platform.yaml team sets, both meshes — is admitted with server-side dry-run and strict field
// validation, and a Pod made from each Deployment's template is admitted by Pod Security Admission under the
// namespace's own `restricted` labels, with no warning. The bare API server serves no Istio, Cilium, Gateway API,
// Secrets Store CSI or Flux kinds: their CRDs are created here (structural, x-kubernetes-preserve-unknown-fields),
// so for those kinds the server proves the envelope (apiVersion, kind, scope, names) and not the spec.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { mapLimit, type PlatformConfig } from "@platform/core";
import { parseTeamsConfig, renderTeams } from "@platform/tenancy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { randomConfig } from "../fixtures/teams.ts";
import { type KubeObject, useApiServer } from "../harness/apiserver.ts";

const kas = await useApiServer();
const REPO_ROOT = join(import.meta.dirname, "..", "..");
const PREFIX = "tenancy-itg-";
const FLUX_NAMESPACE = `${PREFIX}flux`;

const CRDS: Array<{ group: string; version: string; kind: string; plural: string; scope?: string }> = [
  { group: "security.istio.io", version: "v1", kind: "PeerAuthentication", plural: "peerauthentications" },
  { group: "security.istio.io", version: "v1", kind: "AuthorizationPolicy", plural: "authorizationpolicies" },
  { group: "cilium.io", version: "v2", kind: "CiliumNetworkPolicy", plural: "ciliumnetworkpolicies" },
  { group: "gateway.networking.k8s.io", version: "v1", kind: "HTTPRoute", plural: "httproutes" },
  {
    group: "secrets-store.csi.x-k8s.io",
    version: "v1",
    kind: "SecretProviderClass",
    plural: "secretproviderclasses",
  },
  { group: "kustomize.toolkit.fluxcd.io", version: "v1", kind: "Kustomization", plural: "kustomizations" },
];

const crd = (c: (typeof CRDS)[number]): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: {
    name: `${c.plural}.${c.group}`,
    // *.k8s.io groups are protected; the upstream Gateway API CRDs carry this same approval.
    ...(c.group.endsWith(".k8s.io")
      ? {
          annotations: {
            "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538",
          },
        }
      : {}),
  },
  spec: {
    group: c.group,
    names: { plural: c.plural, singular: c.kind.toLowerCase(), kind: c.kind, listKind: `${c.kind}List` },
    scope: "Namespaced",
    versions: [
      {
        name: c.version,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
});

/** The render's objects, as the server receives them. */
function objectsOf(config: PlatformConfig): KubeObject[] {
  return [...renderTeams(config).files]
    .filter(([p]) => p.endsWith(".yaml"))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as KubeObject));
}

describe.skipIf(!kas.ok)("platform team render: admitted by the real kube-apiserver", () => {
  const k = kas.client!;
  const created: string[] = [];

  beforeAll(async () => {
    for (const c of CRDS) {
      const r = await k.create(crd(c));
      if (r.allowed) created.push(`${c.plural}.${c.group}`);
      else expect(r.status, r.message).toBe(409);
    }
    // Established before the client asks for the group's resources (it caches what it finds).
    const deadline = Date.now() + 30_000;
    for (const c of CRDS)
      for (;;) {
        const r = await k.request("GET", `/apis/${c.group}/${c.version}`);
        if (r.allowed && (r.body.resources as Array<{ kind: string }>).some((x) => x.kind === c.kind)) break;
        if (Date.now() > deadline) throw new Error(`CRD ${c.plural}.${c.group} not served after 30 s`);
        await new Promise((res) => setTimeout(res, 200));
      }
    await k.namespace(FLUX_NAMESPACE);
  }, 120_000);

  afterAll(async () => {
    for (const name of created)
      await k.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name });
  });

  /** Creates the render's namespaces and ServiceAccounts for real (pods need both), dry-runs the rest. */
  async function admit(config: PlatformConfig): Promise<{ admitted: number; problems: string[] }> {
    const objects = objectsOf(config);
    const problems: string[] = [];
    const what = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
    const check = (
      o: KubeObject,
      r: { allowed: boolean; status: number; message: string; warnings: string[] },
    ) => {
      if (!r.allowed) problems.push(`${what(o)}: ${r.status} ${r.message}`);
      else if (r.warnings.length) problems.push(`${what(o)}: warnings ${r.warnings.join("; ")}`);
    };
    for (const o of objects.filter((x) => x.kind === "Namespace")) check(o, await k.create(o));
    await mapLimit(
      objects.filter((x) => x.kind === "ServiceAccount"),
      8,
      async (o) => check(o, await k.create(o, { fieldValidation: "Strict" })),
    );
    const rest = objects.filter((x) => x.kind !== "Namespace" && x.kind !== "ServiceAccount");
    await mapLimit(rest, 8, async (o) =>
      check(o, await k.create(o, { dryRun: true, fieldValidation: "Strict" })),
    );
    const pods = rest
      .filter((o) => o.kind === "Deployment")
      .map((d) => {
        const template = (d.spec as { template: { metadata: object; spec: object } }).template;
        return {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            ...template.metadata,
            name: `${d.metadata!.name}-pod`,
            namespace: d.metadata!.namespace,
          },
          spec: template.spec,
        } as KubeObject;
      });
    await mapLimit(pods, 8, async (o) =>
      check(o, await k.create(o, { dryRun: true, fieldValidation: "Strict" })),
    );
    return { admitted: objects.length + pods.length - problems.length, problems };
  }

  it("admits the Northwind render (Namespace, quota, limits, RBAC, workload identity, mesh, route, CSI, Flux)", async () => {
    const file = join(REPO_ROOT, "examples/northwind/platform.yaml");
    const base = parseTeamsConfig(await readFile(file, "utf8"), file);
    // Own namespaces on the shared server: the same render with prefixed team namespaces and Flux namespace.
    const config: PlatformConfig = {
      ...base,
      tenancy: { ...base.tenancy!, source: { name: "config-repo", namespace: FLUX_NAMESPACE } },
      teams: base.teams.map((t) => ({ ...t, namespace: `${PREFIX}nw-${t.namespace}` })),
    };
    const { admitted, problems } = await admit(config);
    expect(problems).toEqual([]);
    const kinds = new Set(objectsOf(config).map((o) => o.kind));
    expect([...kinds].sort()).toEqual(
      [
        "AuthorizationPolicy",
        "Deployment",
        "HTTPRoute",
        "HorizontalPodAutoscaler",
        "Kustomization",
        "LimitRange",
        "Namespace",
        "PeerAuthentication",
        "PodDisruptionBudget",
        "ResourceQuota",
        "RoleBinding",
        "SecretProviderClass",
        "Service",
        "ServiceAccount",
      ].sort(),
    );
    expect(admitted).toBeGreaterThan(50);
  });

  it("refuses a render object the server would refuse (the check can fail): a Deployment running as root under restricted", async () => {
    const file = join(REPO_ROOT, "examples/northwind/platform.yaml");
    const base = parseTeamsConfig(await readFile(file, "utf8"), file);
    const ns = `${PREFIX}nw-orders`;
    const deployment = objectsOf({
      ...base,
      teams: base.teams.map((t) => ({ ...t, namespace: `${PREFIX}nw-${t.namespace}` })),
    }).find((o) => o.kind === "Deployment" && o.metadata?.namespace === ns)!;
    const template = (
      deployment.spec as { template: { metadata: object; spec: { securityContext: object } } }
    ).template;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...template.metadata, name: "root-pod", namespace: ns },
      spec: {
        ...template.spec,
        securityContext: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } },
      },
    } as KubeObject;
    const r = await k.create(pod, { dryRun: true });
    expect(r.status).toBe(403);
    expect(r.message).toContain("violates PodSecurity");
  });

  const seeds = Array.from({ length: 12 }, (_, i) => 2000 + i);
  it.each(seeds)("admits a random valid platform.yaml's render (seed %i)", async (seed) => {
    const config = randomConfig(seed, { prefix: PREFIX, fluxNamespace: FLUX_NAMESPACE });
    const { admitted, problems } = await admit(config);
    expect(problems).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(config.teams.length * 4);
  });
});
