// The cluster's own policies judged as the API server (and Kyverno's admission) would apply them: issue 19's
// policy points, each decided by what the server does (see test/conformance/apiserver-vap.itg.test.ts for the
// differential against a real kube-apiserver).
import { parseConfig } from "@platform/core";
import { describe, expect, it } from "vitest";
import { writeWorkspace } from "../../../test/harness/workspace.ts";
import { type PolicyCheckInput, policyCheck } from "./check.ts";

const workspace = (files: Record<string, string>) => writeWorkspace(files, "check-admission-");
const config = parseConfig("registries:\n  trusted: [acr.io]\n", "platform.yaml");

function check(root: string, over: Partial<PolicyCheckInput> = {}) {
  return policyCheck({
    manifests: ["app"],
    render: "none",
    policies: ["policies"],
    mode: "enforce",
    config,
    root,
    ...over,
  });
}

const deployment = (opts: { namespace?: string; annotations?: string } = {}) =>
  [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: web",
    ...(opts.namespace ? [`  namespace: ${opts.namespace}`] : []),
    "spec:",
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata:",
    "      labels: {app: web}",
    ...(opts.annotations ? [`      annotations: ${opts.annotations}`] : []),
    "    spec:",
    "      containers: [{name: c, image: acr.io/web:1}]",
    "",
  ].join("\n");

const vap = (name: string, expression: string, extra = "") =>
  [
    "apiVersion: admissionregistration.k8s.io/v1",
    "kind: ValidatingAdmissionPolicy",
    `metadata: {name: ${name}}`,
    "spec:",
    "  failurePolicy: Fail",
    "  matchConstraints:",
    "    resourceRules:",
    '      - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"]}',
    ...(extra ? [extra] : []),
    "  validations:",
    `    - expression: ${JSON.stringify(expression)}`,
    "",
  ].join("\n");

const binding = (name: string, actions: string, extra = "") =>
  [
    "---",
    "apiVersion: admissionregistration.k8s.io/v1",
    "kind: ValidatingAdmissionPolicyBinding",
    `metadata: {name: ${name}}`,
    "spec:",
    `  policyName: ${name}`,
    `  validationActions: ${actions}`,
    ...(extra ? [extra] : []),
    "",
  ].join("\n");

const kyvernoPodPolicy = (name: string, expression: string, actions = "[Deny]") =>
  [
    "apiVersion: policies.kyverno.io/v1alpha1",
    "kind: ValidatingPolicy",
    `metadata: {name: ${name}}`,
    "spec:",
    `  validationActions: ${actions}`,
    "  matchConstraints:",
    "    resourceRules:",
    '      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}',
    "  validations:",
    `    - expression: ${JSON.stringify(expression)}`,
    "",
  ].join("\n");

// An expression that errors on a Deployment without the annotation (no such key), as on the server.
const ERRORING = "object.spec.template.metadata.annotations['team'] == 'a'";

describe("a policy file that cannot be run is an input error, never a silent pass (issue 19.1)", () => {
  it.each([
    [
      "classic",
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: classic}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {pattern: {spec: {hostNetwork: false}}}\n",
    ],
    [
      "validate.cel",
      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: cel}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {cel: {expressions: [{expression: 'true'}]}}\n",
    ],
  ])("a %s Kyverno ClusterPolicy", async (_what, policy) => {
    const root = await workspace({ "app/d.yaml": deployment({ namespace: "t" }), "policies/p.yaml": policy });
    await expect(check(root)).rejects.toMatchObject({
      code: "POLICY_UNSUPPORTED",
      file: "policies/p.yaml",
      line: 1,
    });
  });
});

describe("Namespaces carry the kubernetes.io/metadata.name label (issue 19.3)", () => {
  const policy =
    vap("in-t", "false") +
    binding(
      "in-t",
      "[Deny]",
      "  matchResources:\n    namespaceSelector:\n      matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [t]}]",
    );
  it.each([
    ["in the render", true],
    ["not in the render", false],
  ])(
    "namespaceSelector on the name label selects the same object with the Namespace %s",
    async (_w, withNs) => {
      const root = await workspace({
        "app/d.yaml": deployment({ namespace: "t" }),
        ...(withNs ? { "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: t}\n" } : {}),
        "policies/p.yaml": policy,
      });
      const r = await check(root);
      expect(r.results.filter((x) => x.policy === "in-t").map((x) => [x.kind, x.verdict])).toEqual([
        ["Deployment", "fail"],
      ]);
    },
  );
});

describe("evaluation errors follow validationActions and failurePolicy (issue 19.4)", () => {
  it("a Warn binding whose expression errors warns and does not fail the enforce gate", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml": vap("team-annotation", ERRORING) + binding("team-annotation", "[Warn]"),
    });
    const r = await check(root);
    const rows = r.results.filter((x) => x.policy === "team-annotation");
    expect(rows.map((x) => x.verdict)).toEqual(["warn"]);
    expect(rows[0]!.message).toContain("resulted in error");
    expect(r.passed).toBe(true);
  });

  it("a Deny binding whose expression errors fails the enforce gate (failurePolicy Fail)", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml": vap("team-annotation", ERRORING) + binding("team-annotation", "[Deny]"),
    });
    const r = await check(root);
    expect(r.passed).toBe(false);
    expect(r.results.filter((x) => x.policy === "team-annotation").map((x) => x.verdict)).toEqual(["error"]);
  });

  it("failurePolicy Ignore drops the error, whatever the actions", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml":
        vap("team-annotation", ERRORING).replace("failurePolicy: Fail", "failurePolicy: Ignore") +
        binding("team-annotation", "[Deny]"),
    });
    const r = await check(root);
    expect(r.passed).toBe(true);
    expect(r.results.filter((x) => x.policy === "team-annotation").map((x) => x.verdict)).toEqual(["pass"]);
  });

  it("a Kyverno Audit policy whose expression errors warns and does not fail the enforce gate", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml": kyvernoPodPolicy(
        "audit-annotation",
        "object.metadata.annotations['team'] == 'a'",
        "[Audit]",
      ),
    });
    const r = await check(root);
    const rows = r.results.filter((x) => x.policy === "audit-annotation");
    expect(rows.map((x) => x.verdict)).toEqual(["warn"]);
    expect(rows[0]!.message).toContain("resulted in error");
    expect(r.passed).toBe(true);
  });

  it("a Kyverno Deny policy whose expression errors fails the enforce gate", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml": kyvernoPodPolicy("deny-annotation", "object.metadata.annotations['team'] == 'a'"),
    });
    const r = await check(root);
    expect(r.passed).toBe(false);
  });
});

describe("an object without a namespace is admitted into the default namespace (issue 19.5)", () => {
  it("a VAP sees request.namespace and namespaceObject of 'default'", async () => {
    const root = await workspace({
      "app/d.yaml": deployment(),
      "policies/p.yaml":
        vap(
          "ns",
          "request.namespace == 'default' && namespaceObject != null && namespaceObject.metadata.name == 'default' && object.metadata.namespace == 'default'",
        ) + binding("ns", "[Deny]"),
    });
    const r = await check(root);
    expect(r.results.filter((x) => x.policy === "ns").map((x) => x.verdict)).toEqual(["pass"]);
  });

  it("a Kyverno Pod policy judges a Deployment's autogen Pod with namespaceObject set", async () => {
    const root = await workspace({
      "app/d.yaml": deployment(),
      "policies/p.yaml": kyvernoPodPolicy(
        "pod-ns",
        "namespaceObject.metadata.labels['kubernetes.io/metadata.name'] == 'default'",
      ),
    });
    const r = await check(root);
    expect(r.results.filter((x) => x.policy === "pod-ns").map((x) => [x.kind, x.verdict])).toEqual([
      ["Deployment", "pass"],
    ]);
  });

  it("a namespaceSelector on 'default' selects it", async () => {
    const root = await workspace({
      "app/d.yaml": deployment(),
      "policies/p.yaml":
        vap("in-default", "false") +
        binding(
          "in-default",
          "[Deny]",
          "  matchResources:\n    namespaceSelector:\n      matchLabels: {kubernetes.io/metadata.name: default}",
        ),
    });
    const r = await check(root);
    expect(r.results.filter((x) => x.policy === "in-default").map((x) => x.verdict)).toEqual(["fail"]);
  });

  it("the built-in guardrails still report the missing namespace", async () => {
    const root = await workspace({ "app/d.yaml": deployment() });
    const r = await check(root, { policies: ["builtin"] });
    // PLAT rule namespace-set is a warning: the namespace depends on whoever applies the object.
    expect(r.results.find((x) => x.policy.endsWith("/namespace-set"))?.verdict).toBe("warn");
  });
});

describe("objects are judged after the API server's defaulting (issue 19.6)", () => {
  // kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy: the replica-limit example.
  it("the website's replica-limit policy admits a Deployment without spec.replicas (defaulted to 1)", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml":
        vap("demo-policy.example.com", "object.spec.replicas <= 5") +
        binding("demo-policy.example.com", "[Deny]"),
    });
    const r = await check(root);
    expect(
      r.results.filter((x) => x.policy === "demo-policy.example.com").map((x) => [x.verdict, x.message]),
    ).toEqual([["pass", ""]]);
    expect(r.passed).toBe(true);
  });

  it("a policy on a Deployment's rollout strategy reads the defaulted RollingUpdate 25%/25%", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "t" }),
      "policies/p.yaml":
        vap(
          "max-surge",
          "object.spec.strategy.type == 'RollingUpdate' && object.spec.strategy.rollingUpdate.maxSurge == '25%' && object.spec.progressDeadlineSeconds == 600",
        ) + binding("max-surge", "[Deny]"),
    });
    const r = await check(root);
    expect(r.results.filter((x) => x.policy === "max-surge").map((x) => x.verdict)).toEqual(["pass"]);
  });
});

describe("platform.yaml excludedNamespaces exempt only from the built-in guardrails (issue 19.8)", () => {
  it("the cluster's own policies still judge kube-system; the guardrails do not", async () => {
    const root = await workspace({
      "app/d.yaml": deployment({ namespace: "kube-system" }),
      "policies/p.yaml": vap("always", "false") + binding("always", "[Deny]"),
    });
    const r = await check(root, { policies: ["policies", "builtin"] });
    expect(r.results.filter((x) => x.policy === "always").map((x) => x.verdict)).toEqual(["fail"]);
    expect(r.results.filter((x) => x.policy.startsWith("PLAT"))).toEqual([]);
  });
});
