// Installing a policy set into the real API server: params, policies and bindings — each Deny binding
// mirrored by a Warn binding, so that every denying policy shows in the Warning headers (the server reports
// only its first denial) — and removing it again (the server is shared with the other apiserver* suites).
import { readFileSync } from "node:fs";
import type { KubeObject as PolicyObject } from "@platform/policy";
import { parseAllDocuments } from "yaml";
import type { KubeClient, KubeObject } from "../../harness/apiserver.ts";
import { MIRROR_SUFFIX } from "./compare.ts";
import { EPHEMERAL, ephemeralBasePod, ephemeralContainer } from "./corpus.ts";

type Binding = KubeObject & {
  spec: { policyName: string; validationActions: string[]; matchResources?: Record<string, unknown> };
};

/** The documents of a YAML file. */
export function yamlDocuments(path: string): PolicyObject[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as PolicyObject | null)
    .filter((d): d is PolicyObject => !!d);
}

const isBinding = (d: KubeObject): d is Binding => d.kind === "ValidatingAdmissionPolicyBinding";

/** For each binding with Deny: the same binding with Warn, named <binding>-mirror. */
export function mirrorBindings(docs: KubeObject[]): KubeObject[] {
  return docs
    .filter(isBinding)
    .filter((b) => b.spec.validationActions.includes("Deny"))
    .map((b) => ({
      ...b,
      metadata: { ...b.metadata, name: `${b.metadata?.name}${MIRROR_SUFFIX}` },
      spec: { ...b.spec, validationActions: ["Warn"] },
    }));
}

/**
 * Confines every binding to namespaces carrying `label: "true"` (ANDed with its own namespaceSelector), so
 * the policies judge only this suite's objects on the shared server.
 */
export function scopeBindings(docs: KubeObject[], label: string): KubeObject[] {
  return docs.map((d) => {
    if (!isBinding(d)) return d;
    const mr = (d.spec.matchResources ?? {}) as {
      namespaceSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    };
    const sel = mr.namespaceSelector ?? {};
    return {
      ...d,
      spec: {
        ...d.spec,
        matchResources: {
          ...mr,
          namespaceSelector: {
            ...sel,
            matchExpressions: [
              ...(sel.matchExpressions ?? []),
              { key: label, operator: "In", values: ["true"] },
            ],
          },
        },
      },
    };
  });
}

/** The binding an item of (policy, action) comes from, for the expected Warning text. */
export function bindingResolver(
  docs: KubeObject[],
): (i: { policy: string; action: "Deny" | "Warn" }) => string {
  const bindings = docs.filter(isBinding);
  return (i) => {
    const b = bindings.find(
      (b) => b.spec.policyName === i.policy && b.spec.validationActions.includes(i.action),
    );
    const name = b?.metadata?.name ?? i.policy;
    return i.action === "Deny" ? `${name}${MIRROR_SUFFIX}` : name;
  };
}

/** Creates the documents in order (params before bindings), plus the mirror bindings; returns what it created. */
export async function install(kube: KubeClient, docs: KubeObject[]): Promise<KubeObject[]> {
  const all = [...docs, ...mirrorBindings(docs)];
  for (const d of all) {
    let r = await kube.create(d);
    if (r.status === 409)
      r = await kube.put({
        ...d,
        metadata: { ...d.metadata, resourceVersion: (await kube.get(d)).body?.metadata?.resourceVersion },
      });
    if (!r.allowed) throw new Error(`creating ${d.kind} ${d.metadata?.name}: ${r.status} ${r.message}`);
  }
  return all;
}

/** Deletes cluster-scoped policy objects (bindings first). */
export async function uninstall(kube: KubeClient, docs: KubeObject[]): Promise<void> {
  const order = [...docs].sort((a, b) => Number(isBinding(b)) - Number(isBinding(a)));
  for (const d of order) if (d.kind.startsWith("ValidatingAdmissionPolicy")) await kube.delete(d);
}

/**
 * Polls with a probe object until every named policy shows in the answer (the apiserver's policy
 * informer activates policies a second or two after they are created).
 */
export async function waitForPolicies(
  kube: KubeClient,
  probe: KubeObject,
  policies: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await kube.create(probe, { dryRun: true });
    const text = `${res.warnings.join("\n")}\n${res.message}`;
    const missing = policies.filter((p) => !text.includes(`'${p}'`));
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`policies not active after ${timeoutMs / 1000} s: missing ${missing.join(", ")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stores the compliant pods the ephemeral variants are added to. */
export async function createEphemeralBases(kube: KubeClient, namespace: string): Promise<void> {
  for (const variant of Object.keys(EPHEMERAL)) {
    const r = await kube.create(ephemeralBasePod(variant, namespace) as KubeObject);
    if (!r.allowed && r.status !== 409) throw new Error(`pod eph-${variant}: ${r.status} ${r.message}`);
  }
}

/** Deletes them again. */
export async function deleteEphemeralBases(kube: KubeClient, namespace: string): Promise<void> {
  for (const variant of Object.keys(EPHEMERAL))
    await kube.delete({ apiVersion: "v1", kind: "Pod", name: `eph-${variant}`, namespace });
}

/** Adds a variant's ephemeral container to its stored pod with a dry-run update, as `kubectl debug` does. */
export async function addEphemeral(kube: KubeClient, variant: string, namespace: string) {
  const stored = await kube.get({ apiVersion: "v1", kind: "Pod", name: `eph-${variant}`, namespace });
  if (!stored.allowed) throw new Error(`pod eph-${variant}: ${stored.status} ${stored.message}`);
  const pod = stored.body;
  pod.spec.ephemeralContainers = [ephemeralContainer(variant)];
  return kube.request("PUT", `/api/v1/namespaces/${namespace}/pods/eph-${variant}/ephemeralcontainers`, {
    body: pod,
    query: { dryRun: "All" },
  });
}
