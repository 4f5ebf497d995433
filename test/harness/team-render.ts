// A `platform team render` before the real kube-apiserver. The bare server serves no Istio, Cilium, Gateway
// API, Secrets Store CSI or Flux kinds: their CRDs are created here (structural, preserving unknown fields),
// so for those kinds the server proves the envelope (apiVersion, kind, scope, names), not the spec.
// admitRender creates the namespaces and ServiceAccounts for real (pods need both) and dry-runs the rest,
// plus a Pod made from each Deployment's template (Pod Security Admission judges pods, not Deployments).
import { mapLimit } from "@platform/core";
import { parseAllDocuments } from "yaml";
import type { KubeClient, KubeObject, KubeResult } from "./apiserver.ts";

export interface CrdSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** Every custom kind `platform team render` writes. */
export const RENDER_CRDS: CrdSpec[] = [
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

/** The CustomResourceDefinition for one kind (namespaced, any fields kept). */
export function crdObject(c: CrdSpec): KubeObject {
  return {
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
  };
}

/**
 * Creates the CRDs (an existing one is kept) and waits until the server serves each kind; returns the names
 * of those it created, for `deleteCrds` (the server is shared: leave others' CRDs alone).
 */
export async function ensureCrds(k: KubeClient, crds: CrdSpec[] = RENDER_CRDS): Promise<string[]> {
  const created: string[] = [];
  for (const c of crds) {
    const r = await k.create(crdObject(c));
    if (r.allowed) created.push(`${c.plural}.${c.group}`);
    else if (r.status !== 409) throw new Error(`CRD ${c.plural}.${c.group}: ${r.status} ${r.message}`);
  }
  // Established before the client asks for the group's resources (it caches what it finds).
  const deadline = Date.now() + 30_000;
  for (const c of crds)
    for (;;) {
      const r = await k.request("GET", `/apis/${c.group}/${c.version}`);
      if (r.allowed && (r.body.resources as Array<{ kind: string }>).some((x) => x.kind === c.kind)) break;
      if (Date.now() > deadline) throw new Error(`CRD ${c.plural}.${c.group} not served after 30 s`);
      await new Promise((res) => setTimeout(res, 200));
    }
  return created;
}

/** Deletes the CRDs `ensureCrds` created. */
export async function deleteCrds(k: KubeClient, names: string[]): Promise<void> {
  for (const name of names)
    await k.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name });
}

/** The objects of a render's YAML files (path → text), as the server receives them. */
export function renderObjects(files: ReadonlyMap<string, string>): KubeObject[] {
  return [...files]
    .filter(([p]) => p.endsWith(".yaml"))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as KubeObject));
}

/** The Pod a Deployment's ReplicaSet would create (named <deployment>-pod). */
export function podOf(d: KubeObject): KubeObject {
  const template = (d.spec as { template: { metadata: object; spec: object } }).template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...template.metadata, name: `${d.metadata!.name}-pod`, namespace: d.metadata!.namespace },
    spec: template.spec,
  } as KubeObject;
}

/** What the server said of a render: objects and pods admitted, and each refusal or warning. */
export interface RenderAdmission {
  admitted: number;
  /** `<kind> <ns>/<name>: <status> <message>` or `…: warnings …`. */
  problems: string[];
}

/**
 * Submits a render: Namespaces (with `namespaceLabels` added, e.g. a suite label that scopes policy bindings)
 * and ServiceAccounts are created, everything else and each Deployment's Pod is a dry-run with strict field
 * validation. A warning counts as a problem.
 */
export async function admitRender(
  k: KubeClient,
  objects: KubeObject[],
  opts: { namespaceLabels?: Record<string, string> } = {},
): Promise<RenderAdmission> {
  const problems: string[] = [];
  const what = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  const check = (o: KubeObject, r: KubeResult) => {
    if (!r.allowed) problems.push(`${what(o)}: ${r.status} ${r.message}`);
    else if (r.warnings.length) problems.push(`${what(o)}: warnings ${r.warnings.join("; ")}`);
  };
  for (const o of objects.filter((x) => x.kind === "Namespace")) {
    const labels = { ...(o.metadata?.labels ?? {}), ...opts.namespaceLabels };
    check(o, await k.create({ ...o, metadata: { ...o.metadata, labels } }));
  }
  await mapLimit(
    objects.filter((x) => x.kind === "ServiceAccount"),
    8,
    async (o) => check(o, await k.create(o, { fieldValidation: "Strict" })),
  );
  const rest = objects.filter((x) => x.kind !== "Namespace" && x.kind !== "ServiceAccount");
  const pods = rest.filter((o) => o.kind === "Deployment").map(podOf);
  await mapLimit([...rest, ...pods], 8, async (o) =>
    check(o, await k.create(o, { dryRun: true, fieldValidation: "Strict" })),
  );
  return { admitted: objects.length + pods.length - problems.length, problems };
}
