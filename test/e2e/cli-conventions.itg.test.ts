// The CLI conventions of issue 17, through the bundled CLI as a user runs it: help with examples and no
// noise, one error for every missing option, -o json, stdin as `-`, the completion script in a real
// bash, sign/verify tables on an oci:<dir> layout, and deprecated option names that still work.
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPlatform } from "../harness/platform-cli.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";
import { identityOnDisk, layoutWithImages } from "../signing/helpers.ts";

const peers = requirePeers("kustomize", "helm");
const platform = (args: string[], opts: { cwd: string; input?: string; env?: Record<string, string> }) =>
  runPlatform(args, { ...opts, tools: peers.paths });

const pod = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: team-a }
spec: { containers: [{ name: c, image: nginx }] }
`;

describe("platform CLI conventions (bundled)", () => {
  it("help: examples, required options marked, no [] or false defaults, no machine paths", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    for (const cmd of [["policy", "check"], ["sign"], ["upgrade", "apply"], ["team", "add"]]) {
      const r = platform([...cmd, "--help"], { cwd });
      expect(r.code, cmd.join(" ")).toBe(0);
      expect(r.stdout).toContain("\nExamples:\n  $ platform ");
      expect(r.stdout).not.toContain("(default: [])");
      expect(r.stdout).not.toContain("default: false");
      expect(r.stdout).not.toContain(cwd);
      expect(r.stdout).not.toContain(REPO_ROOT);
    }
    expect(platform(["sign", "--help"], { cwd }).stdout).toMatch(/--key <key> +\(required\)/);
  });

  it("one error names every missing required option; -o json is --json", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    const r = platform(["canary", "gate"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required options --prometheus-url, --namespace, --service");
    await writeFile(join(cwd, "pod.yaml"), pod);
    const o = platform(["policy", "check", "pod.yaml", "-o", "json"], { cwd });
    const json = platform(["policy", "check", "pod.yaml", "--json"], { cwd });
    expect(o.code).toBe(1);
    expect(JSON.parse(o.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it("policy check - reads manifests from stdin and leaves nothing in the workspace", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    const r = platform(["policy", "check", "-"], { cwd, input: pod });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL +<stdin>:\d+:\d+ +PLAT0/);
    expect(await readdir(cwd)).toEqual([]);
  });

  it("the bash completion script the bundle prints completes in a real bash", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    const script = platform(["completion", "bash"], { cwd });
    expect(script.code).toBe(0);
    await writeFile(join(cwd, "platform.bash"), script.stdout);
    const r = spawnSync(
      "bash",
      [
        "-c",
        `source platform.bash; COMP_WORDS=(platform upgrade apply --pl); COMP_CWORD=3; _platform_complete; echo "\${COMPREPLY[@]}"`,
      ],
      { cwd, encoding: "utf8" },
    );
    expect(r.stdout.trim()).toBe("--plan-file");
  });

  it("sign and verify an image in an oci:<dir> layout print aligned tables; a tampered policy fails with the reason", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    const {
      digests: [digest],
    } = await layoutWithImages(join(cwd, "layout"), ["app:1"]);
    const id = await identityOnDisk();
    const ref = `reg.example/team/app@${digest}`;
    const signed = platform(
      [
        "sign",
        "--image-ref",
        ref,
        "--key",
        id.keyFile,
        "--certificate-chain",
        id.chainFile,
        "--layout",
        "oci:layout",
        "--format",
        "notation",
      ],
      { cwd },
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`✅ Signed ${ref}`);
    expect(signed.stdout).toMatch(
      /\nARTIFACT +MANIFEST +ATTACHED VIA\nnotation +sha256:[0-9a-f]{12} +OCI layout index\n/,
    );
    expect(signed.stdout).not.toContain("|---|");
    const verify = (...extra: string[]) =>
      platform(
        [
          "verify",
          "--image-ref",
          ref,
          "--trust-policy",
          id.policyFile,
          "--trust-store",
          id.trustStoreDir,
          "--layout",
          "oci:layout",
          ...extra,
        ],
        { cwd },
      );
    const ok = verify();
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/✅ Verified: /);
    expect(ok.stdout).toMatch(
      /\nSIGNATURE +SOURCE +VALID +SIGNER +DETAIL\nnotation +sha256:[0-9a-f]{12} +PASS /,
    );
    const other = await identityOnDisk();
    const bad = platform(
      [
        "verify",
        "--image-ref",
        ref,
        "--trust-policy",
        other.policyFile,
        "--trust-store",
        other.trustStoreDir,
        "--layout",
        "oci:layout",
      ],
      { cwd },
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("❌ Not verified");
    expect(bad.stdout).toMatch(/\nnotation +sha256:[0-9a-f]{12} +FAIL /);
  });

  it("renamed options still work with a warning: upgrade apply --plan, upgrade plan --subscription", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cli-conv-"));
    const old = platform(["upgrade", "apply", "--plan", "missing.json"], { cwd });
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("warn: --plan is deprecated: use --plan-file");
    expect(old.stderr).toContain("[option --plan-file]");
    const plan = platform(
      [
        "upgrade",
        "plan",
        "--description",
        join(REPO_ROOT, "examples", "northwind", "cluster", "aks-northwind-prod.json"),
        "--subscription",
        "s",
        "-o",
        "json",
      ],
      { cwd },
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain("warn: --subscription is deprecated: use --subscription-id");
    expect(JSON.parse(plan.stdout).cluster.name).toBe("aks-northwind-prod");
  });
});
