import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, exitCodeFor, isPlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { createCelEngine } from "../cel/engine.ts";
import { loadPolicies } from "../policies.ts";
import type { KubeObject } from "../types.ts";
import { unsupportedKyverno } from "./kyverno.ts";
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
});
