import { parseConfig } from "@platform/core";
import { describe, expect, it } from "vitest";
import { writeWorkspace } from "../../../test/harness/workspace.ts";
import { type PolicyCheckInput, policyCheck } from "./check.ts";

const workspace = (files: Record<string, string>) => writeWorkspace(files, "check-");

const config = parseConfig("registries:\n  trusted: [acr.io, host]\n", "platform.yaml");

function check(root: string, over: Partial<PolicyCheckInput> = {}) {
  return policyCheck({
    manifests: ["."],
    render: "auto",
    policies: ["builtin"],
    mode: "enforce",
    config,
    root,
    ...over,
  });
}

const pod = (image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: t\nspec:\n  containers:\n    - name: c\n      image: ${JSON.stringify(image)}\n`;

describe("PLAT002 image-digest", () => {
  const D = "a".repeat(64);
  // Each of these the kubelet's runtime refuses to pull: PLAT002 must not count it as pinned.
  it.each([
    `acr.io/app@sha256:${"a".repeat(32)}`,
    `acr.io/app@sha256:${"A".repeat(64)}`,
    `acr.io/app@md5:${"a".repeat(32)}`,
    ` acr.io/app@sha256:${D}`,
    `host:abc/app@sha256:${D}`,
  ])("fails %j", async (image) => {
    const root = await workspace({ "p.yaml": pod(image) });
    const r = await check(root, { policies: ["PLAT002"] });
    const rows = r.results.filter((x) => x.policy.startsWith("PLAT002"));
    expect(rows.map((x) => x.verdict)).toEqual(["fail"]);
    expect(rows[0]!.message).toContain("not a valid image reference");
  });

  it("passes a digest the runtime accepts", async () => {
    const root = await workspace({ "p.yaml": pod(`acr.io/app@sha256:${D}`) });
    const r = await check(root, { policies: ["PLAT002"] });
    expect(r.results.filter((x) => x.policy.startsWith("PLAT002")).map((x) => x.verdict)).toEqual(["pass"]);
  });
});

describe("checking nothing is never a pass", () => {
  it.each(["enforce", "audit", "warn"] as const)(
    "an empty directory fails in %s mode as an input error",
    async (mode) => {
      const root = await workspace({ "empty/.keep": "" });
      const r = await check(root, { manifests: ["empty"], mode });
      expect(r.passed).toBe(false);
      expect(r.failure).toBe("input");
      expect(r.results).toContainEqual(expect.objectContaining({ policy: "input/empty", verdict: "error" }));
    },
  );

  it.each(["enforce", "audit"] as const)("a nonexistent path fails in %s mode", async (mode) => {
    const root = await workspace({ "p.yaml": pod(`acr.io/app@sha256:${"a".repeat(64)}`) });
    const r = await check(root, { manifests: ["p.yaml", "nope"], mode });
    expect(r.passed).toBe(false);
    expect(r.failure).toBe("input");
  });

  it("passes an empty input only with allowEmpty, and lists what it skipped", async () => {
    const root = await workspace({ "d/values.yaml": "replicas: 1\n" });
    const r = await check(root, { manifests: ["d"], allowEmpty: true });
    expect(r.passed).toBe(true);
    expect(r.skipped).toEqual([
      { path: "d/values.yaml", line: 1, reason: expect.stringContaining("no apiVersion or kind") },
    ]);
  });

  it("a missing renderer is an environment failure, in every mode", async () => {
    const root = await workspace({
      "k/kustomization.yaml": "resources: [cm.yaml]\n",
      "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: t}\n",
    });
    const r = await policyCheck(
      { manifests: ["k"], render: "auto", policies: ["builtin"], mode: "audit", config, root },
      { tools: { kustomize: "/nonexistent/kustomize" } },
    );
    expect(r.failure).toBe("environment");
  });

  it("a malformed file is an input failure in enforce mode; violations alone are a verdict", async () => {
    const root = await workspace({ "bad.yaml": "kind: [\n", "p.yaml": pod("acr.io/app:1") });
    expect((await check(root)).failure).toBe("input");
    const clean = await workspace({ "p.yaml": pod("acr.io/app:1") });
    expect((await check(clean, { policies: ["PLAT002"] })).failure).toBe("verdict");
  });
});

describe("cluster policies", () => {
  it("reports a ValidatingAdmissionPolicy without a binding as not bound, never as waived", async () => {
    const root = await workspace({
      "p.yaml": pod(`acr.io/app@sha256:${"a".repeat(64)}`),
      "policies/vap.yaml":
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: unbound\nspec:\n  matchConstraints:\n    resourceRules:\n      - apiGroups: ['']\n        apiVersions: [v1]\n        operations: [CREATE]\n        resources: [pods]\n  validations:\n    - expression: 'false'\n",
    });
    const r = await check(root, { manifests: ["p.yaml"], policies: ["policies/vap.yaml"] });
    expect(r.waived).toBe(0);
    expect(r.notBound).toBe(1);
    expect(r.results).toContainEqual(expect.objectContaining({ policy: "unbound", notBound: true }));
  });
});
