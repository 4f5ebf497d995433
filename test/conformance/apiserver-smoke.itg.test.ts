// The real kube-apiserver as a test peer: a ValidatingAdmissionPolicy denies on server-side dry-run, and Pod
// Security Admission enforces a namespace's level. If these fail, the differential suites cannot be trusted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeObject, parseWarnings, useApiServer } from "../harness/apiserver.ts";

const kas = await useApiServer();
const NS = "smoke-vap";
const NS_RESTRICTED = "smoke-psa-restricted";

const policy = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicy",
  metadata: { name: "smoke-no-host-network" },
  spec: {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["apps"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["deployments"],
        },
      ],
    },
    validations: [
      {
        expression: "!has(object.spec.template.spec.hostNetwork) || !object.spec.template.spec.hostNetwork",
        message: "hostNetwork is forbidden",
      },
    ],
  },
};
// Scoped to this file's namespace: the server is shared with the other apiserver* suites.
const binding = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicyBinding",
  metadata: { name: "smoke-no-host-network" },
  spec: {
    policyName: "smoke-no-host-network",
    validationActions: ["Deny"],
    matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": NS } } },
  },
};

function deployment(name: string, hostNetwork: boolean): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { hostNetwork, containers: [{ name: "app", image: "registry.example/app:1" }] },
      },
    },
  };
}

describe.skipIf(!kas.ok)("kube-apiserver peer", () => {
  const k = kas.client!;

  beforeAll(async () => {
    await k.namespace(NS);
    await k.namespace(NS_RESTRICTED, {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "v1.32",
    });
    for (const obj of [policy, binding]) {
      const r = await k.apply(obj);
      expect(r.allowed, r.message).toBe(true);
    }
    await k.waitForPolicyActive(deployment("probe", true), { message: "hostNetwork is forbidden" });
  });

  afterAll(async () => {
    // Namespaces stay: without a namespace controller a deleted one would only hang in Terminating.
    for (const obj of [binding, policy]) await k.delete(obj);
  });

  it("denies a hostNetwork Deployment on ?dryRun=All with 422 and the policy's message", async () => {
    const r = await k.create(deployment("web", true), { dryRun: true });
    expect(r.status).toBe(422);
    expect(r.allowed).toBe(false);
    expect(r.message).toBe(
      "deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'smoke-no-host-network' with binding 'smoke-no-host-network' denied request: hostNetwork is forbidden",
    );
    // Dry run: nothing was stored.
    expect((await k.get(deployment("web", true))).status).toBe(404);
  });

  it("admits the same Deployment without hostNetwork (dry run, so nothing is stored)", async () => {
    const r = await k.create(deployment("web", false), { dryRun: true });
    expect(r.status, r.message).toBe(201);
    expect(r.body.metadata.uid).toBeTruthy();
    expect((await k.get(deployment("web", false))).status).toBe(404);
  });

  it("PSA restricted refuses a privileged pod and admits a conforming one", async () => {
    const pod = (name: string, securityContext: object): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NS_RESTRICTED },
      spec: { containers: [{ name: "app", image: "registry.example/app:1", securityContext }] },
    });
    const bad = await k.create(pod("priv", { privileged: true }), { dryRun: true });
    expect(bad.status).toBe(403);
    expect(bad.message).toContain('violates PodSecurity "restricted:v1.32"');
    expect(bad.message).toContain(
      'privileged (container "app" must not set securityContext.privileged=true)',
    );

    const good = await k.create(
      pod("ok", {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      }),
      { dryRun: true },
    );
    expect(good.status, good.message).toBe(201);
  });

  it("reports unknown fields as warnings, or refuses them with fieldValidation=Strict", async () => {
    const obj = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "smoke-unknown", namespace: NS },
      data: { a: "1" },
      bogus: true,
    };
    const warn = await k.create(obj, { dryRun: true, fieldValidation: "Warn" });
    expect(warn.status).toBe(201);
    expect(warn.warnings).toEqual(['unknown field "bogus"']);
    const strict = await k.create(obj, { dryRun: true, fieldValidation: "Strict" });
    expect(strict.status).toBe(400);
    expect(strict.message).toContain('unknown field "bogus"');
  });

  it("decodes YAML bytes itself (rawPost)", async () => {
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke-yaml\ndata:\n  enabled: 'on'\n";
    const path = await k.collectionPath({ apiVersion: "v1", kind: "ConfigMap" }, NS);
    const r = await k.rawPost(path, yaml, "application/yaml", { dryRun: "All" });
    expect(r.status, r.message).toBe(201);
    expect(r.body.data).toEqual({ enabled: "on" });
  });

  it("discovery lists the served group/versions", async () => {
    const d = await k.discovery();
    expect(d.groupVersions).toContain("v1");
    expect(d.groupVersions).toContain("admissionregistration.k8s.io/v1");
    expect(d.preferred.apps).toBe("v1");
  });
});

describe("Warning header parsing", () => {
  it("splits several warn-values and unescapes quotes", () => {
    expect(parseWarnings('299 - "unknown field \\"x\\"", 299 - "second"')).toEqual([
      'unknown field "x"',
      "second",
    ]);
  });
});
