import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createCelEngine } from "../cel/engine.ts";
import { evaluateAll } from "../evaluate.ts";
import type { KubeObject, LoadedObject } from "../types.ts";
import { classify } from "./documents.ts";
import { compileKyverno } from "./kyverno.ts";
import { compileVaps } from "./vap.ts";

const engine = createCelEngine();
const loaded = (obj: KubeObject, line = 1): LoadedObject => ({
  obj,
  source: { file: "x.yaml", line },
  locate: () => undefined,
});
const docs = (text: string) => text.split(/^---$/m).map((t) => loaded(parse(t) as KubeObject));

const POLICY = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: replica-limit }
spec:
  failurePolicy: Fail
  paramKind: { apiVersion: v1, kind: ConfigMap }
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  matchConditions:
    - name: not-exempt
      expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
  variables:
    - name: max
      expression: int(params.data.maxReplicas)
  validations:
    - expression: object.spec.replicas <= variables.max
      messageExpression: "'replicas ' + string(object.spec.replicas) + ' exceed ' + string(variables.max)"
      reason: Invalid
    - expression: object.metadata.name.startsWith('app-')
      message: name must start with app-
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: replica-limit-prod }
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: { name: limits, namespace: platform, parameterNotFoundAction: Deny }
  matchResources:
    namespaceSelector:
      matchLabels: { env: prod }
`;

const deploy = (
  name: string,
  replicas: bigint,
  ns = "shop",
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns, labels },
  spec: { replicas },
});
const ns = (name: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});
const params = (max: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "limits", namespace: "platform" },
  data: { maxReplicas: max },
});

function run(objects: KubeObject[], extra: KubeObject[], policyText = POLICY) {
  const d = classify(docs(policyText));
  const { policies, notes } = compileVaps(d.vaps, d.bindings, engine);
  return {
    notes,
    rows: evaluateAll(
      objects.map((o) => loaded(o)),
      policies,
      { extra: extra.map((o) => loaded(o)) },
    ).filter((r) => r.kind === "Deployment"),
  };
}

describe("ValidatingAdmissionPolicy", () => {
  it("applies params, variables, messageExpression and namespaceSelector from the render", () => {
    const { rows } = run(
      [ns("shop", { env: "prod" }), deploy("app-a", 5n), deploy("web", 2n)],
      [params("3")],
    );
    expect(rows.map((r) => [r.name, r.verdict, r.message])).toEqual([
      ["app-a", "fail", "replicas 5 exceed 3"],
      ["web", "fail", "name must start with app-"],
    ]);
  });

  it("skips objects the binding's namespaceSelector or matchConditions exclude", () => {
    expect(run([ns("shop", { env: "dev" }), deploy("app-a", 5n)], [params("3")]).rows).toEqual([]);
    expect(
      run([ns("shop", { env: "prod" }), deploy("app-a", 5n, "shop", { exempt: "yes" })], [params("3")]).rows,
    ).toEqual([]);
  });

  it("labels namespaces the render does not define with kubernetes.io/metadata.name, as the apiserver does", () => {
    const text = POLICY.replace(
      "matchLabels: { env: prod }",
      "matchLabels: { kubernetes.io/metadata.name: shop }",
    );
    expect(run([deploy("app-a", 5n)], [params("3")], text).rows.map((r) => r.verdict)).toEqual(["fail"]);
  });

  it("parameterNotFoundAction Deny fails, Allow passes", () => {
    const deny = run([ns("shop", { env: "prod" }), deploy("app-a", 1n)], []);
    expect(deny.rows[0]).toMatchObject({
      verdict: "fail",
      message:
        "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
    });
    const allow = run(
      [ns("shop", { env: "prod" }), deploy("app-a", 1n)],
      [],
      POLICY.replace("parameterNotFoundAction: Deny", "parameterNotFoundAction: Allow"),
    );
    expect(allow.rows[0]).toMatchObject({ verdict: "pass" });
  });

  it("Warn and Audit actions warn instead of failing; an expression error follows failurePolicy", () => {
    const warn = run(
      [ns("shop", { env: "prod" }), deploy("app-a", 5n)],
      [params("3")],
      POLICY.replace("validationActions: [Deny]", "validationActions: [Warn, Audit]"),
    );
    expect(warn.rows.map((r) => r.verdict)).toEqual(["warn"]);
    const broken = run([ns("shop", { env: "prod" }), deploy("app-a", 5n)], [params("three")]);
    expect(broken.rows[0]).toMatchObject({
      verdict: "error",
      message: expect.stringContaining("resulted in error"),
    });
    const ignored = run(
      [ns("shop", { env: "prod" }), deploy("app-a", 5n)],
      [params("three")],
      POLICY.replace("failurePolicy: Fail", "failurePolicy: Ignore"),
    );
    expect(ignored.rows.map((r) => r.verdict)).toEqual(["pass"]);
  });

  it("reports a policy no binding refers to, and rejects invalid validationActions", () => {
    const unbound = run([deploy("app-a", 5n)], [], POLICY.split(/^---$/m)[0]!);
    expect(unbound.notes).toEqual([
      expect.objectContaining({
        verdict: "skip",
        message: expect.stringContaining("no ValidatingAdmissionPolicyBinding"),
      }),
    ]);
    expect(() =>
      run([], [], POLICY.replace("validationActions: [Deny]", "validationActions: [Deny, Warn]")),
    ).toThrowError(/may not combine Deny and Warn/);
  });

  it("stops an expression that runs out of the apiserver's cost budget, per failurePolicy", () => {
    const costly = POLICY.replace(
      "object.spec.replicas <= variables.max",
      "lists.range(10).all(a, lists.range(10).all(b, lists.range(10).all(c, lists.range(1000).all(d, d >= 0))))",
    );
    const { rows } = run([ns("shop", { env: "prod" }), deploy("app-a", 1n)], [params("3")], costly);
    expect(rows[0]).toMatchObject({
      verdict: "error",
      message: expect.stringContaining("running out of cost budget"),
    });
  });

  it("does not match other resources or API groups", () => {
    const sts = { ...deploy("app-a", 9n), kind: "StatefulSet" };
    expect(run([ns("shop", { env: "prod" }), sts], [params("3")]).rows).toEqual([]);
  });
});

describe("Kyverno ValidatingPolicy", () => {
  const VPOL = `
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: disallow-host-network }
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [pods]
  validations:
    - expression: "!object.spec.?hostNetwork.orValue(false)"
      message: hostNetwork is not allowed
`;
  const pod = (hostNetwork: boolean): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "t" },
    spec: { hostNetwork, containers: [] },
  });
  const controllers: KubeObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "t" },
      spec: { template: { metadata: {}, spec: { hostNetwork: true } } },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c", namespace: "t" },
      spec: { jobTemplate: { spec: { template: { spec: { hostNetwork: true } } } } },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "s", namespace: "t" },
      spec: { template: { spec: { hostNetwork: false } } },
    },
  ];

  it("judges Pods, and Pod controllers through autogen", () => {
    const d = classify(docs(VPOL));
    const rows = evaluateAll(
      [pod(true), pod(false), ...controllers].map((o) => loaded(o)),
      compileKyverno(d.kyverno, engine),
    );
    expect(rows.map((r) => `${r.kind}:${r.verdict}`)).toEqual([
      "Pod:fail",
      "Pod:pass",
      "Deployment:fail",
      "CronJob:fail",
      "StatefulSet:pass",
    ]);
  });

  it("autogen follows spec.autogen.podControllers.controllers", () => {
    const d = classify(
      docs(
        VPOL.replace(
          "validationActions: [Deny]",
          "validationActions: [Audit]\n  autogen: { podControllers: { controllers: [cronjobs] } }",
        ),
      ),
    );
    const rows = evaluateAll(
      controllers.map((o) => loaded(o)),
      compileKyverno(d.kyverno, engine),
    );
    expect(rows.map((r) => `${r.kind}:${r.verdict}`)).toEqual(["CronJob:warn"]);
  });
});

// Semantics checked against kube-apiserver v1.32 (test/conformance/apiserver-vap.itg.test.ts).
describe("ValidatingAdmissionPolicy as the apiserver evaluates it", () => {
  const withBinding = (binding: string, policy = POLICY) => `${policy.split(/^---$/m)[0]!}---\n${binding}`;
  const binding = (spec: string) => `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: b }
spec:
  policyName: replica-limit
${spec}`;

  it("a missing param denies even under a Warn binding (a configuration error), and Ignore admits", () => {
    const warn = run(
      [deploy("app-a", 1n)],
      [],
      withBinding(
        binding(
          "  validationActions: [Warn]\n  paramRef: { name: nope, namespace: platform, parameterNotFoundAction: Deny }",
        ),
      ),
    );
    expect(warn.rows.map((r) => r.verdict)).toEqual(["fail"]);
    const ignore = run(
      [deploy("app-a", 1n)],
      [],
      withBinding(
        binding(
          "  validationActions: [Deny]\n  paramRef: { name: nope, namespace: platform, parameterNotFoundAction: Deny }",
        ),
        POLICY.replace("failurePolicy: Fail", "failurePolicy: Ignore"),
      ),
    );
    expect(ignore.rows).toEqual([]);
  });

  it("a binding without paramRef runs the policy with params == null", () => {
    const text = withBinding(
      binding("  validationActions: [Deny]"),
      POLICY.replace(
        "expression: int(params.data.maxReplicas)",
        'expression: "params == null ? 10 : int(params.data.maxReplicas)"',
      ),
    );
    expect(run([deploy("app-a", 5n)], [], text).rows.map((r) => r.verdict)).toEqual(["pass"]);
  });

  it("a namespaced param kind without paramRef.namespace reads the request's namespace", () => {
    const text = withBinding(
      binding("  validationActions: [Deny]\n  paramRef: { name: limits, parameterNotFoundAction: Deny }"),
    );
    const local = { ...params("3"), metadata: { name: "limits", namespace: "shop" } };
    expect(run([deploy("app-a", 5n)], [local], text).rows.map((r) => r.message)).toEqual([
      "replicas 5 exceed 3",
    ]);
  });

  it("trims messages, falls back from an empty messageExpression, and quotes failing expressions untrimmed", () => {
    const text = POLICY.replace(
      `messageExpression: "'replicas ' + string(object.spec.replicas) + ' exceed ' + string(variables.max)"`,
      `messageExpression: "'  '"\n      message: "  too many replicas  "`,
    ).replace(
      "message: name must start with app-",
      `messageExpression: "'  ' + object.metadata.name + ' is badly named '"`,
    );
    expect(
      run([ns("shop", { env: "prod" }), deploy("web", 5n)], [params("3")], text).rows.map((r) => r.message),
    ).toEqual(["too many replicas", "web is badly named"]);
    const missing = POLICY.replace(
      "expression: object.spec.replicas <= variables.max",
      'expression: "object.spec.missing <= variables.max "',
    );
    expect(
      run([ns("shop", { env: "prod" }), deploy("app-a", 1n)], [params("3")], missing).rows[0]!.message,
    ).toBe("expression 'object.spec.missing <= variables.max ' resulted in error: no such key: missing");
  });

  it("a variable's error names the variable, as cel-go's composition library does", () => {
    expect(run([ns("shop", { env: "prod" }), deploy("app-a", 5n)], [params("x")]).rows[0]!.message).toMatch(
      /^expression 'object.spec.replicas <= variables.max' resulted in error: composited variable "max" fails to evaluate: /,
    );
  });

  it("an evaluation error under a Warn binding warns", () => {
    const text = POLICY.replace("validationActions: [Deny]", "validationActions: [Warn]");
    expect(
      run([ns("shop", { env: "prod" }), deploy("app-a", 5n)], [params("x")], text).rows.map((r) => r.verdict),
    ).toEqual(["warn"]);
  });

  it("matchConditions: a false condition skips the policy even when another errs; errors are aggregated", () => {
    const two = (first: string, second: string) =>
      POLICY.replace(
        `    - name: not-exempt\n      expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"`,
        `    - name: a\n      expression: "${first}"\n    - name: b\n      expression: "${second}"`,
      );
    const ctx = [ns("shop", { env: "prod" })];
    expect(
      run([...ctx, deploy("app-a", 5n)], [params("3")], two("object.spec.nope == 1", "false")).rows,
    ).toEqual([]);
    expect(
      run([...ctx, deploy("app-a", 5n)], [params("3")], two("object.spec.nope == 1", "true")).rows[0]!
        .message,
    ).toBe("expression 'object.spec.nope == 1' resulted in error: no such key: nope");
    expect(
      run([...ctx, deploy("app-a", 5n)], [params("3")], two("object.spec.nope == 1", "object.spec.x == 1"))
        .rows[0]!.message,
    ).toBe(
      "[expression 'object.spec.nope == 1' resulted in error: no such key: nope, expression 'object.spec.x == 1' resulted in error: no such key: x]",
    );
  });

  it("a Namespace in the render carries kubernetes.io/metadata.name, as the apiserver stores it", () => {
    const text = POLICY.replace(
      "matchLabels: { env: prod }",
      "matchExpressions: [{ key: kubernetes.io/metadata.name, operator: NotIn, values: [shop] }]",
    );
    expect(run([ns("shop", { env: "prod" }), deploy("app-a", 5n)], [params("3")], text).rows).toEqual([]);
  });
});
