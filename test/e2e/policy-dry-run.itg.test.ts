import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runBundledAction } from "../harness/run-action.ts";
import { validateSarif } from "../harness/sarif.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const peers = requirePeers("kustomize", "helm");

describe.skipIf(!peers.ok)("policy-dry-run bundled action, as GitHub runs it", () => {
  let ws: string;
  const env = { PLATFORM_KUSTOMIZE: peers.paths.kustomize, PLATFORM_HELM: peers.paths.helm };

  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), "ws-"));
    await cp(join(REPO_ROOT, "examples", "northwind"), ws, { recursive: true });
  });
  afterAll(() => rm(ws, { recursive: true, force: true }));

  it("fails the step in enforce mode with outputs, annotations at file:line, a summary and valid SARIF", async () => {
    const run = await runBundledAction(
      "policy-dry-run",
      {
        manifests: "config-repo",
        waivers: "config-repo/platform/waivers.yaml",
        sarif: "policy.sarif",
        mode: "enforce",
      },
      { workspace: ws, env },
    );
    expect(run.code, run.stderr).toBe(1);
    // Every output the action sets is declared in action.yml, and every declared output is set.
    const declared = Object.keys(
      parse(await readFile(join(REPO_ROOT, "actions", "policy-dry-run", "action.yml"), "utf8")).outputs,
    );
    expect(Object.keys(run.outputs).sort()).toEqual(declared.sort());
    expect(Number(run.outputs.violations)).toBe(20);
    expect(run.outputs["sarif-file"]).toBe(join(ws, "policy.sarif"));
    const result = JSON.parse(run.outputs.result!);
    expect(result).toMatchObject({ mode: "enforce", passed: false, objects: 11 });
    // warn: PLAT017's Ingress and PLAT025 on the four workloads that mount a ServiceAccount token.
    expect(result.counts).toMatchObject({ fail: 20, warn: 5, skip: 1, error: 0 });

    // Plain YAML: the annotation points at the offending field itself.
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        level: "error",
        title: "PLAT005/not-privileged",
        file: "config-repo/apps/storefront/deployment.yaml",
        line: 23,
      }),
    );
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        level: "error",
        title: "PLAT002/image-digest",
        file: "config-repo/apps/storefront/deployment.yaml",
        line: 18,
      }),
    );
    // Kustomize: a container added by the prod overlay's patch is attributed to that overlay's patches.
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        title: "PLAT003/run-as-non-root",
        file: "config-repo/apps/orders/overlays/prod/kustomization.yaml",
        line: 8,
      }),
    );
    // Helm: attributed to the chart template that produced the object.
    const waived = result.findings.find((f: { verdict: string }) => f.verdict === "skip");
    expect(waived).toMatchObject({
      policy: "PLAT007/read-only-root-filesystem",
      file: "config-repo/charts/payments/templates/deployment.yaml",
    });
    // The expired waiver is itself a violation at its own line.
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        title: "waiver/expired",
        file: "config-repo/platform/waivers.yaml",
        line: 8,
      }),
    );
    const warned = run.annotations.filter((a) => a.level === "warning").map((a) => a.title);
    expect(warned).toContain("PLAT017/prefer-gateway-api");
    expect(warned.filter((t) => t === "PLAT025/no-token-automount")).toHaveLength(4);

    expect(run.summary).toContain("## ❌ Policy dry-run failed: 20 violations in 11 objects (enforce)");
    expect(run.summary).toMatch(/\| PLAT002\/image-digest \| 2 \| 0 \| 0 \| 0 \|/);
    // The per-rule counts are a (folded) table; no pie chart repeats them.
    expect(run.summary).not.toContain("```mermaid\npie");
    expect(run.summary).toContain("Objects with the most findings");
    // file:line links to the file at the commit that ran.
    expect(run.summary).toContain(
      "(https://github.com/northwind/app/blob/0123456789abcdef0123456789abcdef01234567/config-repo/apps/storefront/deployment.yaml#L23)",
    );
    expect(run.stdout).toContain("::error title=POLICY_VIOLATIONS::20 violation(s)");

    const sarif = JSON.parse(await readFile(join(ws, "policy.sarif"), "utf8"));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].results.length).toBe(26);
  });

  it("passes in audit mode, reporting findings as notices", async () => {
    const run = await runBundledAction(
      "policy-dry-run",
      { manifests: "config-repo", mode: "audit" },
      { workspace: ws, env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.annotations.length).toBeGreaterThan(0);
    expect(run.annotations.every((a) => a.level === "notice")).toBe(true);
    expect(run.summary).toMatch(/## ✅ Policy dry-run passed: .* \(audit\)/);
  });

  it("passes in warn mode, reporting every violation as a warning", async () => {
    const run = await runBundledAction(
      "policy-dry-run",
      { manifests: "config-repo/apps/storefront/deployment.yaml", mode: "warn" },
      { workspace: ws, env },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.violations).toBe("0");
    expect(run.annotations.length).toBeGreaterThan(5);
    expect(run.annotations.every((a) => a.level === "warning")).toBe(true);
  });

  it("passes clean manifests and selects rules with `policies`", async () => {
    const run = await runBundledAction(
      "policy-dry-run",
      { manifests: "config-repo/apps/orders/overlays/dev", policies: "PLAT001, image-digest" },
      { workspace: ws, env },
    );
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.outputs.result!)).toMatchObject({ passed: true, counts: { fail: 0, pass: 2 } });
  });

  it("names the input and the fix for a bad input value, and exits 1", async () => {
    const run = await runBundledAction(
      "policy-dry-run",
      { manifests: "config-repo", mode: "strict" },
      { workspace: ws, env },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /::error title=INPUT_INVALID::input "mode" must be one of: enforce, audit, warn \(got "strict"\)/,
    );
    expect(run.summary).toContain("policy-dry-run failed");
  });

  it.each(["enforce", "audit", "warn"])(
    "never passes an empty directory or a path that does not exist (%s mode)",
    async (mode) => {
      const dir = await mkdtemp(join(ws, "empty-"));
      const rel = dir.slice(ws.length + 1);
      await writeFile(join(dir, "values.yaml"), "replicas: 2\n");
      for (const manifests of [rel, "no/such/dir"]) {
        const run = await runBundledAction("policy-dry-run", { manifests, mode }, { workspace: ws, env });
        expect(run.code, run.stdout).toBe(1);
        const result = JSON.parse(run.outputs.result!);
        expect(result).toMatchObject({ passed: false, objects: 0 });
        expect(run.summary).toContain("❌ Policy dry-run failed");
        expect(run.summary).not.toContain("Policy dry-run passed");
      }
      // allow-empty makes checking nothing a pass, and the summary still lists what was skipped.
      const allowed = await runBundledAction(
        "policy-dry-run",
        { manifests: rel, mode, "allow-empty": "true" },
        { workspace: ws, env },
      );
      expect(allowed.code, allowed.stdout).toBe(0);
      expect(JSON.parse(allowed.outputs.result!).skipped).toEqual([
        expect.objectContaining({
          path: `${rel}/values.yaml`,
          reason: expect.stringContaining("no apiVersion"),
        }),
      ]);
      expect(allowed.summary).toContain("Skipped inputs (1)");
    },
  );

  it("exits as README documents from the CLI: 1 violations, 2 input errors, 3 a missing tool", async () => {
    const { main } = await import("../../packages/cli/src/main.ts");
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
      let out = "";
      const code = await main(["policy", "check", ...args, "--root", ws], {
        out: (t) => {
          out += t;
        },
        err: () => {},
        env: { ...process.env, ...env, ...extra },
        cwd: ws,
      });
      return { code, out };
    };
    expect((await cli(["config-repo/apps/storefront"])).code).toBe(1);
    const missing = await cli(["no/such/path", "--mode", "audit"]);
    expect(missing.code).toBe(2);
    expect(missing.out).toContain("FAILED");
    expect(missing.out).not.toContain("PASSED");
    expect(
      (await cli(["config-repo/apps/orders/overlays/dev"], { PLATFORM_KUSTOMIZE: "/nonexistent/kustomize" }))
        .code,
    ).toBe(3);
  });

  it("reports bad input as findings at file:line and still checks the rest", async () => {
    const dir = await mkdtemp(join(ws, "bad-"));
    const rel = dir.slice(ws.length + 1);
    await writeFile(
      join(dir, "broken.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n",
    );
    await writeFile(join(dir, "notk8s.yaml"), "apiVersion: v1\nkind: Pod\nspec: {}\n");
    await writeFile(
      join(dir, "ok.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata: { name: p, namespace: team }\nspec:\n  containers:\n    - name: c\n      image: nginx\n",
    );
    await cp(join(REPO_ROOT, "test", "fixtures", "broken-kustomize"), join(dir, "kbroken"), {
      recursive: true,
    });
    await symlink("/etc/passwd", join(dir, "escape.yaml"));
    const run = await runBundledAction("policy-dry-run", { manifests: rel }, { workspace: ws, env });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.outputs.result!);
    const errors = result.findings.filter((f: { verdict: string }) => f.verdict === "error");
    // yaml reports an unclosed flow sequence where it gives up: the end of the file.
    expect(errors).toContainEqual(
      expect.objectContaining({
        file: `${rel}/broken.yaml`,
        line: 6,
        message: expect.stringContaining("invalid YAML"),
      }),
    );
    expect(errors).toContainEqual(
      expect.objectContaining({
        file: `${rel}/notk8s.yaml`,
        message: expect.stringContaining("not a Kubernetes object"),
      }),
    );
    expect(errors).toContainEqual(
      expect.objectContaining({
        policy: "input/render",
        file: `${rel}/kbroken/kustomization.yaml`,
        message: expect.stringContaining("missing.yaml"),
      }),
    );
    // The good object was still checked, and nothing was read through the symlink out of the workspace.
    expect(result.findings).toContainEqual(
      expect.objectContaining({ policy: "PLAT002/image-digest", name: "p" }),
    );
    expect(run.stdout + run.stderr).not.toContain("root:x:0:0");
  });
});
