import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, exitCodeFor, isPlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { createCelEngine } from "../cel/engine.ts";
import { loadPolicies } from "../policies.ts";
import type { KubeObject } from "../types.ts";
import { createKyvernoEngine, OFFLINE_VARS, unsupportedKyverno } from "./kyverno.ts";

const IMAGE_FOR_TESTS = OFFLINE_VARS.image;

import { runKyvernoTests } from "./suites.ts";

const classic = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-labels
spec:
  validationFailureAction: Enforce
  rules:
    - name: check-team
      match: { any: [{ resources: { kinds: [Pod] } }] }
      validate:
        message: "label team is required"
        pattern: { metadata: { labels: { team: "?*" } } }
`;
const celClusterPolicy = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-host-network
spec:
  rules:
    - name: host-network
      match: { any: [{ resources: { kinds: [Pod] } }] }
      validate:
        cel:
          expressions:
            - expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork"
`;
const pod = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: team-a }
spec: { containers: [{ name: c, image: nginx }] }
`;

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kyverno-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const obj = (apiVersion: string, kind: string, spec: unknown = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name: "p" },
  spec,
});

describe("Kyverno documents this engine cannot run", () => {
  it("names classic ClusterPolicies by their rule kinds, and the policies.kyverno.io kinds besides ValidatingPolicy", () => {
    expect(
      unsupportedKyverno(obj("kyverno.io/v1", "ClusterPolicy", { rules: [{ validate: { pattern: {} } }] }))
        ?.what,
    ).toBe("Kyverno ClusterPolicy (validate.pattern/anyPattern/deny/foreach rules)");
    expect(
      unsupportedKyverno(
        obj("kyverno.io/v1", "Policy", { rules: [{ validate: { cel: {} } }, { mutate: {} }] }),
      )?.what,
    ).toBe("Kyverno Policy (mutate, validate.cel rules)");
    expect(unsupportedKyverno(obj("policies.kyverno.io/v1alpha1", "MutatingPolicy"))?.what).toBe(
      "Kyverno MutatingPolicy",
    );
    expect(unsupportedKyverno(obj("kyverno.io/v2", "PolicyException"))?.hint).toMatch(/not applied/);
    expect(unsupportedKyverno(obj("policies.kyverno.io/v1alpha1", "ValidatingPolicy"))).toBeUndefined();
    expect(unsupportedKyverno(obj("policies.kyverno.io/v1", "ValidatingPolicy"))).toBeUndefined();
    expect(unsupportedKyverno(obj("v1", "ConfigMap"))).toBeUndefined();
  });

  it("policy check: a classic or validate.cel ClusterPolicy is an input error naming file, line and kind — never 0 policies and a pass", async () => {
    for (const [file, text, what] of [
      [
        "policies/require-labels.yaml",
        classic,
        "Kyverno ClusterPolicy (validate.pattern/anyPattern/deny/foreach rules)",
      ],
      [
        "policies/host-network.yaml",
        `---\n${celClusterPolicy}`,
        "Kyverno ClusterPolicy (validate.cel rules)",
      ],
    ] as const) {
      const root = await workspace({ [file]: text });
      const err = await loadPolicies([file], { config: defaultConfig(), root }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPlatformError(err, "POLICY_UNSUPPORTED"), String(err)).toBe(true);
      if (!isPlatformError(err)) continue;
      expect(exitCodeFor(err)).toBe(2);
      expect(err.file).toBe(file);
      expect(err.line).toBe(file.includes("host") ? 2 : 1);
      expect(err.message).toContain(what);
      expect(err.hint).toMatch(/ValidatingPolicy/);
    }
  });

  it("policy test: a kyverno-test.yaml case on a classic ClusterPolicy is reported as not supported, never as a verdict", async () => {
    const root = await workspace({
      "require-labels.yaml": classic,
      ".kyverno-test/resource.yaml": pod,
      ".kyverno-test/kyverno-test.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: require-labels }
policies: [../require-labels.yaml]
resources: [resource.yaml]
results:
  - { policy: require-labels, rule: check-team, kind: Pod, resources: [web], result: fail }
`,
    });
    const [c, ...rest] = await runKyvernoTests([join(root, ".kyverno-test/kyverno-test.yaml")], {
      root,
      engine: createCelEngine(),
    });
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ ok: false, actual: "not supported", expected: "fail" });
    expect(c?.unsupported).toMatch(
      /^Kyverno ClusterPolicy \(validate\.pattern.* is not supported \(require-labels\.yaml:1\)/,
    );
  });

  it("kyverno-test side files as kyverno test reads them: context (resource.Get/List), values namespaces, userinfo, default namespace", async () => {
    const vpol = `apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: registries }
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }]
  matchConditions:
    - name: not-robots
      expression: "parseServiceAccount(request.userInfo.username).Name != 'robot'"
  variables:
    - name: cm
      expression: resource.Get("v1", "configmaps", "default", "registries")
    - name: hpas
      expression: resource.List("autoscaling/v2", "horizontalpodautoscalers", object.metadata.namespace).items.orValue([])
  validations:
    - expression: >-
        object.spec.containers.all(c, c.image.startsWith(variables.cm.data.allowed) ||
        c.image.startsWith(namespaceObject.metadata.?annotations['allowed'].orValue('-')))
      message: registry not allowed
    - expression: "size(variables.hpas) == 1"
      message: one HPA expected
`;
    const pods = ["a: ghcr.io/x", "b: docker.io/x", "c: img.corp/x"]
      .map((l) => {
        const [name, image] = l.split(": ");
        const ns = name === "c" ? "team" : undefined;
        return `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}${ns ? `, namespace: ${ns}` : ""} }\nspec: { containers: [{ name: c, image: "${image}" }] }\n`;
      })
      .join("---\n");
    const root = await workspace({
      "registries.yaml": vpol,
      ".kyverno-test/resource.yaml": `${pods}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\n`,
      ".kyverno-test/context.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Context
metadata: { name: context }
spec:
  resources:
    - { apiVersion: v1, kind: ConfigMap, metadata: { name: registries, namespace: default }, data: { allowed: ghcr.io/ } }
    - { apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: { name: h, namespace: default } }
    - { apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: { name: h, namespace: team } }
`,
      ".kyverno-test/values.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Values
namespaces:
  - { apiVersion: v1, kind: namespace, metadata: { name: team, annotations: { allowed: img.corp/ } } }
  - { apiVersion: v1, kind: Namespace, metadata: { name: default } }
`,
      ".kyverno-test/userinfo.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: UserInfo
userInfo: { username: "system:serviceaccount:ci:deployer" }
`,
      ".kyverno-test/kyverno-test.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: registries }
policies: [../registries.yaml]
resources: [resource.yaml]
context: context.yaml
variables: values.yaml
userinfo: userinfo.yaml
results:
  - { policy: registries, isValidatingPolicy: true, kind: Pod, resources: [a, c], result: pass }
  - { policy: registries, isValidatingPolicy: true, kind: Pod, resources: [b], result: fail }
  - { policy: registries, isValidatingPolicy: true, kind: ConfigMap, resources: [cm], result: fail }
`,
    });
    const cases = await runKyvernoTests([join(root, ".kyverno-test/kyverno-test.yaml")], {
      root,
      engine: createCelEngine(),
    });
    // a: the context's ConfigMap allows ghcr.io; c: its values-file Namespace allows img.corp; b: neither.
    // The ConfigMap is not matched: "excluded", which kyverno test counts as a pass.
    expect(cases.map((c) => `${c.case}=${c.actual}`)).toEqual([
      "Pod/a=pass",
      "Pod/c=pass",
      "Pod/b=fail",
      "ConfigMap/cm=excluded",
    ]);
    expect(cases.every((c) => c.ok)).toBe(true);
  });

  it("Kyverno libraries that need a registry, HTTP or the cluster fail when called, by name, and short-circuit like Kyverno", async () => {
    const engine = createKyvernoEngine();
    const run = (e: string, v: Record<string, unknown> = {}) =>
      engine.compile(e).eval({ ...v, image: IMAGE_FOR_TESTS, resource: undefined });
    expect(run("true || image.GetMetadata('busybox').config.Env.size() > 0")).toBe(true);
    expect(() => run("image.GetMetadata('busybox').config == {}")).toThrowError(
      /image\.GetMetadata is not supported: policy check and policy test run offline/,
    );
    expect(run("parseServiceAccount('system:serviceaccount:ns:sa')")).toEqual({
      Namespace: "ns",
      Name: "sa",
    });
    expect(run("parseServiceAccount('alice')")).toEqual({ Namespace: "", Name: "" });
  });

  it("a case whose error comes from an offline-only library is 'not supported', naming it; one the policy never reaches it in keeps its verdict", async () => {
    const vpol = `apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: block-images-with-volumes }
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }]
  validations:
    - expression: "object.metadata.?labels[?'skip'].orValue('') == 'yes' || object.spec.containers.all(c, !has(image.GetMetadata(c.image).config.Volumes))"
`;
    const skipped =
      "apiVersion: v1\nkind: Pod\nmetadata: { name: skipped, labels: { skip: 'yes' } }\nspec: { containers: [{ name: c, image: nginx }] }\n";
    const root = await workspace({
      "p.yaml": vpol,
      ".kyverno-test/resource.yaml": `${pod}---\n${skipped}`,
      ".kyverno-test/kyverno-test.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: t }
policies: [../p.yaml]
resources: [resource.yaml]
results:
  - { policy: block-images-with-volumes, isValidatingPolicy: true, kind: Pod, resources: [web], result: fail }
  - { policy: block-images-with-volumes, isValidatingPolicy: true, kind: Pod, resources: [skipped], result: pass }
`,
    });
    const [web, skip] = await runKyvernoTests([join(root, ".kyverno-test/kyverno-test.yaml")], {
      root,
      engine: createCelEngine(),
    });
    expect(web).toMatchObject({ actual: "not supported", ok: false });
    expect(web?.unsupported).toMatch(/uses Kyverno's image\.GetMetadata \(needs a registry\)/);
    expect(skip).toMatchObject({ actual: "pass", ok: true });
  });

  it("a values file's request.operation is honoured; values CEL policies do not read are reported, never ignored", async () => {
    const vpol = `apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: on-update }
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods] }]
  validations:
    - expression: "request.operation == 'UPDATE'"
`;
    const other = pod.replace("name: web", "name: other");
    const test = (values: string) => `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: t }
policies: [../p.yaml]
resources: [resource.yaml]
variables: values.yaml
results:
  - { policy: on-update, isValidatingPolicy: true, kind: Pod, resources: [web], result: pass }
  - { policy: on-update, isValidatingPolicy: true, kind: Pod, resources: [other], result: fail }
${values}`;
    const root = await workspace({
      "p.yaml": vpol,
      ".kyverno-test/resource.yaml": `${pod}---\n${other}`,
      ".kyverno-test/kyverno-test.yaml": test(""),
      ".kyverno-test/values.yaml": `apiVersion: cli.kyverno.io/v1alpha1
kind: Values
policies:
  - name: on-update
    resources:
      - { name: web, values: { request.operation: UPDATE } }
      - { name: other, values: { team: a } }
`,
      "g/p.yaml": vpol,
      "g/.kyverno-test/resource.yaml": pod,
      "g/.kyverno-test/kyverno-test.yaml": test(""),
      "g/.kyverno-test/values.yaml":
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nglobalValues: { request.mode: background }\n",
    });
    const [web, other_, gweb] = await runKyvernoTests(
      [join(root, ".kyverno-test/kyverno-test.yaml"), join(root, "g/.kyverno-test/kyverno-test.yaml")],
      { root, engine: createCelEngine() },
    );
    expect(web).toMatchObject({ actual: "pass", ok: true });
    expect(other_).toMatchObject({ actual: "not supported", ok: false });
    expect(other_?.unsupported).toContain("values team");
    expect(gweb).toMatchObject({ actual: "not supported", ok: false });
    expect(gweb?.unsupported).toContain("values globalValues");
  });

  it("a kyverno-test.yaml part this runner does not apply (exceptions, jsonPayload, targetResources, checks) makes every case not supported; an error case carries the error", async () => {
    const vpol = `apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: p }
spec:
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }]
  validations:
    - expression: "object.spec.nodeName == 'x'"
`;
    const test = (extra: string) => `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: t }
policies: [../p.yaml]
resources: [resource.yaml]
${extra}results:
  - { policy: p, isValidatingPolicy: true, kind: Pod, resources: [web], result: fail }
`;
    const root = await workspace({
      "p.yaml": vpol,
      ".kyverno-test/resource.yaml": pod,
      ".kyverno-test/kyverno-test.yaml": test(""),
      "b/p.yaml": vpol,
      "b/.kyverno-test/resource.yaml": pod,
      "b/.kyverno-test/kyverno-test.yaml": test("exceptions: [exception.yaml]\n"),
    });
    const [plain, withExceptions] = await runKyvernoTests(
      [join(root, ".kyverno-test/kyverno-test.yaml"), join(root, "b/.kyverno-test/kyverno-test.yaml")],
      { root, engine: createCelEngine() },
    );
    expect(plain).toMatchObject({ actual: "error", ok: false });
    expect(plain?.error).toMatch(/object\.spec\.nodeName == 'x'.*resulted in error: .*nodeName/i);
    expect(withExceptions).toMatchObject({ actual: "not supported", ok: false });
    expect(withExceptions?.unsupported).toMatch(/uses exceptions, which policy test does not apply/);
  });
});
