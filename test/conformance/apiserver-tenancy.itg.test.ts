// `platform team render` against the real kube-apiserver: every object the render writes — for Northwind and
// for seeded random platform.yaml team sets, both meshes — is admitted with server-side dry-run and strict field
// validation, and a Pod made from each Deployment's template is admitted by Pod Security Admission under the
// namespace's own `restricted` labels, with no warning. The custom kinds' CRDs (Istio, Cilium, Gateway API,
// Secrets Store CSI, Flux) come from ../harness/team-render.ts: for those the server proves the envelope.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PlatformConfig } from "@platform/core";
import { parseTeamsConfig, renderTeams } from "@platform/tenancy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomConfig } from "../fixtures/teams.ts";
import { type KubeObject, useApiServer } from "../harness/apiserver.ts";
import { admitRender, deleteCrds, ensureCrds, renderObjects } from "../harness/team-render.ts";

const kas = await useApiServer();
const REPO_ROOT = join(import.meta.dirname, "..", "..");
const PREFIX = "tenancy-itg-";
const FLUX_NAMESPACE = `${PREFIX}flux`;

const objectsOf = (config: PlatformConfig) => renderObjects(renderTeams(config).files);

describe.skipIf(!kas.ok)("platform team render: admitted by the real kube-apiserver", () => {
  const k = kas.client!;
  const created: string[] = [];

  beforeAll(async () => {
    created.push(...(await ensureCrds(k)));
    await k.namespace(FLUX_NAMESPACE);
  }, 120_000);

  afterAll(() => deleteCrds(k, created));

  const admit = (config: PlatformConfig) => admitRender(k, objectsOf(config));

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
