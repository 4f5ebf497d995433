import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCaptured } from "./run-captured.ts";

const classic = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: require-labels }
spec:
  rules:
    - name: check-team
      match: { any: [{ resources: { kinds: [Pod] } }] }
      validate: { message: "label team is required", pattern: { metadata: { labels: { team: "?*" } } } }
`;
const pod = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: team-a }
spec: { containers: [{ name: c, image: nginx }] }
`;

const run = (argv: string[], cwd: string) => runCaptured(argv, cwd, { NO_COLOR: "1" });

describe("platform policy check / test with Kyverno policies this engine cannot run", () => {
  it("policy check --policies <classic ClusterPolicy> exits 2 naming the file, line and kind, with a hint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-kyverno-"));
    await writeFile(join(dir, "cp.yaml"), classic);
    await writeFile(join(dir, "pod.yaml"), pod);
    for (const mode of ["enforce", "audit"]) {
      const r = await run(["policy", "check", "pod.yaml", "--policies", "cp.yaml", "--mode", mode], dir);
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.err).toContain(
        'cp.yaml:1: Kyverno ClusterPolicy (validate.pattern/anyPattern/deny/foreach rules) "require-labels" is not supported',
      );
      expect(r.err).toMatch(/hint: .*ValidatingPolicy/);
      expect(r.out).not.toContain("PASSED");
    }
  });

  it("policy test reports a case on a classic ClusterPolicy as not supported and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-kyverno-"));
    await mkdir(join(dir, ".kyverno-test"));
    await writeFile(join(dir, "cp.yaml"), classic);
    await writeFile(join(dir, ".kyverno-test", "resource.yaml"), pod);
    await writeFile(
      join(dir, ".kyverno-test", "kyverno-test.yaml"),
      "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: { name: t }\npolicies: [../cp.yaml]\nresources: [resource.yaml]\nresults:\n  - { policy: require-labels, rule: check-team, kind: Pod, resources: [web], result: fail }\n",
    );
    const text = await run(["policy", "test", "."], dir);
    expect(text.code).toBe(1);
    expect(text.out).toContain("N/S  require-labels / Pod/web: not supported: Kyverno ClusterPolicy");
    expect(text.out).toContain("1 case(s): 0 passed, 0 failed, 1 not supported");
    const json = await run(["policy", "test", ".", "--json"], dir);
    const parsed = JSON.parse(json.out) as {
      results: Array<{ verdict: string; message: string }>;
      summary: unknown;
    };
    expect(parsed.results).toEqual([
      expect.objectContaining({ verdict: "error", message: expect.stringMatching(/^not supported: /) }),
    ]);
    expect(parsed.summary).toEqual({ cases: 1, passed: 0, failed: 0, unsupported: 1 });
  });
});
