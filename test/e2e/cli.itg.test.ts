import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPlatform } from "../harness/platform-cli.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const EXAMPLE = join(REPO_ROOT, "examples", "northwind");
const peers = requirePeers("kustomize", "helm");

const platform = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  runPlatform(args, { cwd: opts.cwd ?? EXAMPLE, env: opts.env, tools: peers.paths });

describe("platform CLI (bundled)", () => {
  it("prints --version and --help for every command", () => {
    expect(platform(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const cmd of [[], ["policy"], ["policy", "check"], ["demo"]]) {
      const r = platform([...cmd, "--help"]);
      expect(r.code, cmd.join(" ")).toBe(0);
      expect(r.stdout).toContain("Usage: platform");
    }
  });

  it("exits 2 on usage errors", () => {
    expect(platform(["policy", "check"]).code).toBe(2);
    expect(platform(["policy", "check", "x", "--mode", "strict"]).code).toBe(2);
    expect(platform(["nope"]).code).toBe(2);
  });

  it("exits 2 with file:line:column for an invalid platform.yaml", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-"));
    await writeFile(join(dir, "platform.yaml"), "registries:\n  trusted: [acr.azurecr.io]\n  trustd: []\n");
    await writeFile(
      join(dir, "m.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: t }\n",
    );
    const r = platform(["policy", "check", "m.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("platform.yaml:3:3: registries: Unrecognized key");
    expect(r.stderr).toContain('hint: Remove or rename "trustd"');
  });

  it.skipIf(!peers.ok)(
    "policy check --json prints DESIGN.md's result shape and exits 1 on violations",
    () => {
      const r = platform([
        "policy",
        "check",
        "config-repo",
        "--json",
        "--waivers",
        "config-repo/platform/waivers.yaml",
        "--config",
        "platform.yaml",
      ]);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout);
      // DESIGN.md's keys on every row; `via` (the overlay that rendered the object) is the one addition.
      for (const row of out.results) {
        const keys = Object.keys(row)
          .filter((k) => k !== "via")
          .sort();
        expect(keys).toEqual(["file", "kind", "line", "message", "name", "namespace", "policy", "verdict"]);
      }
      expect(out.results.some((x: { via?: string }) => typeof x.via === "string")).toBe(true);
      expect(out.results.filter((x: { verdict: string }) => x.verdict === "fail")).toHaveLength(20);
      expect(new Set(out.results.map((x: { verdict: string }) => x.verdict))).toEqual(
        new Set(["pass", "fail", "warn", "skip"]),
      );
    },
  );

  it.skipIf(!peers.ok)("exits 0 for compliant manifests and in audit mode", () => {
    expect(platform(["policy", "check", "config-repo/apps/orders/overlays/dev"]).code).toBe(0);
    expect(platform(["policy", "check", "config-repo", "--mode", "audit"]).code).toBe(0);
  });

  it.skipIf(!peers.ok)("demo shows real violations, the per-rule counts and what was rendered", () => {
    const r = platform(["demo"], { cwd: tmpdir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "FAIL  config-repo/apps/storefront/deployment.yaml:23:25  PLAT005/not-privileged",
    );
    expect(r.stdout).toMatch(/PLAT002\/image-digest\s+2\s+0\s+0\s+0/);
    expect(r.stdout).toContain("config-repo/charts/payments (helm, 1 objects)");
  });

  it("policy test runs Kyverno tests and gator suites unchanged, exiting 1 on a mismatch", async () => {
    const ok = platform(["policy", "test", "policies", "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.summary).toEqual({ cases: 4, passed: 4, failed: 0, unsupported: 0 });
    expect(out.results[0]).toMatchObject({
      policy: "disallow-latest-tag",
      verdict: "pass",
      file: "policies/tests/resources.yaml",
    });

    const dir = await mkdtemp(join(tmpdir(), "suite-"));
    await writeFile(
      join(dir, "template.yaml"),
      readFileSync(join(EXAMPLE, "policies", "require-owner-label.yaml"), "utf8").split("---")[0]!,
    );
    await writeFile(
      join(dir, "constraint.yaml"),
      readFileSync(join(EXAMPLE, "policies", "require-owner-label.yaml"), "utf8").split("---")[1]!,
    );
    await writeFile(
      join(dir, "labelled.yaml"),
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: a, namespace: t, labels: { northwind.io/owner: x } }\n",
    );
    await writeFile(
      join(dir, "bare.yaml"),
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: b, namespace: t }\n",
    );
    await writeFile(
      join(dir, "suite.yaml"),
      "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n- name: owner\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - name: labelled\n    object: labelled.yaml\n    assertions: [{violations: no}]\n  - name: bare\n    object: bare.yaml\n    assertions: [{violations: 1, message: owning team}]\n  - name: wrong-expectation\n    object: bare.yaml\n    assertions: [{violations: no}]\n",
    );
    const r = platform(["policy", "test", "."], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ok   owner / labelled");
    expect(r.stdout).toContain("ok   owner / bare");
    expect(r.stdout).toContain("FAIL owner / wrong-expectation: expected violations: no, got 1 violation(s)");
    expect(r.stdout).toContain("3 case(s): 2 passed, 1 failed");
  });

  it.skipIf(!peers.ok)("policy check runs the cluster's own policies with their params", () => {
    const r = platform(["policy", "check", "config-repo", "--policies", "policies", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const rows = JSON.parse(r.stdout).results as Array<{
      policy: string;
      verdict: string;
      name: string;
      message: string;
    }>;
    expect(rows).toContainEqual(
      expect.objectContaining({
        policy: "max-replicas",
        verdict: "fail",
        name: "storefront",
        message: "replicas 6 exceed the limit of 4",
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        policy: "NorthwindRequiredOwner/workloads-have-owner",
        verdict: "fail",
        name: "storefront",
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        policy: "NorthwindRequiredOwner/workloads-have-owner",
        verdict: "pass",
        name: "payments",
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({ policy: "disallow-latest-tag", verdict: "warn", name: "storefront" }),
    );
    expect(rows.some((x) => x.policy.startsWith("PLAT"))).toBe(false);
  });

  it("bump edits a real git checkout byte-exactly and commits it (local mode)", async () => {
    const repo = await mkdtemp(join(tmpdir(), "bump-repo-"));
    const git = (...args: string[]) => spawnSync("git", ["-C", repo, ...args], { encoding: "utf8" });
    git("init", "-q");
    git("config", "user.email", "ci@example.com");
    git("config", "user.name", "ci");
    const dir = join(repo, "apps", "api");
    await mkdir(dir, { recursive: true });
    const text = `# api\r\nimages:\r\n  - name: acr.io/team/api # the app\r\n    newTag: "1.0"\r\n    digest: 'sha256:${"a".repeat(64)}'\r\n`;
    await writeFile(join(dir, "kustomization.yaml"), text);
    git("add", ".");
    git("commit", "-qm", "init");
    const digest = `sha256:${"b".repeat(64)}`;
    const r = platform(
      [
        "bump",
        "--image-ref",
        `acr.io/team/api@${digest}`,
        "--config-repo",
        ".",
        "--paths",
        "apps",
        // The stale newTag stays: this test is about digest bytes (the default, drop, removes it).
        "--tag-policy",
        "keep",
        "--commit",
      ],
      { cwd: repo },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`apps/api/kustomization.yaml:5  sha256:${"a".repeat(64)} → ${digest}`);
    const after = readFileSync(join(dir, "kustomization.yaml"), "utf8");
    expect(after).toBe(text.replace("a".repeat(64), "b".repeat(64)));
    expect(git("log", "--oneline").stdout.trim().split("\n")).toHaveLength(2);
    const again = platform(
      [
        "bump",
        "--image-ref",
        `acr.io/team/api@${digest}`,
        "--config-repo",
        ".",
        "--paths",
        "apps",
        // The stale newTag stays: this test is about digest bytes (the default, drop, removes it).
        "--tag-policy",
        "keep",
        "--commit",
      ],
      { cwd: repo },
    );
    expect(again.stdout).toContain("already at this digest");
    expect(git("log", "--oneline").stdout.trim().split("\n")).toHaveLength(2);
  });

  it("canary gate replays a scenario and exits 1 on rollback; the demo shows both decisions", async () => {
    const { namedScenario, scenarioOpenMetrics } = await import("@platform/canary");
    const dir = await mkdtemp(join(tmpdir(), "canary-cli-"));
    await writeFile(
      join(dir, "bad.om"),
      scenarioOpenMetrics(namedScenario("error-spike", Date.parse("2026-11-25T10:00:00Z"), 30)),
    );
    const r = platform(
      [
        "canary",
        "gate",
        "--prometheus-url",
        `file://${join(dir, "bad.om")}`,
        "--namespace",
        "demo",
        "--service",
        "podinfo",
        "--json",
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "rollback", rule: "errors.harm" });
    const demo = platform(["demo"], { cwd: tmpdir() });
    expect(demo.stdout).toContain("decision: rollback (errors.harm)");
    expect(demo.stdout).toMatch(/healthy canary[^\n]*\n {2}decision: (promote|continue)/);
  });
});
