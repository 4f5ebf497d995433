// `platform build-scan` and the demo's build-scan step, from the bundled CLI: OCI layout targets without any
// registry, and the demo against a real registry (olareg) when PLATFORM_DEMO_REGISTRY is set, checked by skopeo.
import { execFile, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { validateSarif } from "../harness/sarif.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const CLI = join(REPO_ROOT, "packages", "cli", "dist", "platform.js");
const EXAMPLE = join(REPO_ROOT, "examples", "northwind");
const FIXTURES = join(REPO_ROOT, "test", "fixtures", "scan", "trivy");
const buildah = requirePeers("buildah");

function platform(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: EXAMPLE,
    encoding: "utf8",
    env: { PATH: process.env.PATH, NO_COLOR: "1", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let ws: string;
beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), "build-scan-cli-"));
});
afterAll(() => rm(ws, { recursive: true, force: true }));

describe("platform build-scan (bundled CLI)", () => {
  it("the demo gates the bundled report and promotes into an OCI layout; a missing --from is a usage error", async () => {
    const first = platform([
      "build-scan",
      "--from",
      join(ws, "missing"),
      "--image",
      `oci:${join(ws, "q")}`,
      "--scanner",
      "none",
    ]);
    expect(first.code).toBe(2);
    expect(first.stderr).toMatch(/does not exist \[option --from\]/);

    const demo = platform(["demo"]);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/passed: 7 finding\(s\) — 1 critical, 2 high, 4 medium/);
    expect(demo.stdout).toMatch(/waived: CVE-2024-45590 \(body-parser\) until 2027-03-31 by team-orders/);
    expect(demo.stdout).toMatch(/promoted oci:<tmp>\/trusted-orders-api@sha256:[a-f0-9]{64}/);
  });

  it.skipIf(!buildah.ok)(
    "builds with buildah, fails the gate (exit 1), writes SARIF, and promotes nothing",
    async () => {
      await mkdir(join(ws, "ctx"), { recursive: true });
      await writeFile(join(ws, "ctx", "hello.txt"), "hi\n");
      await writeFile(join(ws, "ctx", "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
      const r = platform([
        "build-scan",
        "--builder",
        "buildah",
        "--context",
        join(ws, "ctx"),
        "--image",
        `oci:${join(ws, "quarantine")}`,
        "--scan-report",
        join(FIXTURES, "gomod.json.golden"),
        // A Trivy fixture of another target: it names no digest of this image.
        "--allow-unbound-report",
        "--fail-on",
        "medium",
        "--promote-to",
        `oci:${join(ws, "trusted")}`,
        "--sarif",
        join(ws, "out.sarif"),
        "--json",
      ]);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ passed: false });
      expect(out.promotedRef).toBeUndefined();
      expect(out.failing.map((f: { id: string }) => f.id)).toEqual(["CVE-2022-23628"]);
      expect(validateSarif(JSON.parse(await readFile(join(ws, "out.sarif"), "utf8")))).toEqual([]);
      expect(r.stderr).toMatch(/not promoted or tagged/);
      await expect(readFile(join(ws, "trusted", "index.json"))).rejects.toThrow();
    },
  );
});

const registryPeers = requirePeers("olareg", "skopeo");
describe.skipIf(!registryPeers.ok)("the demo against a registry (PLATFORM_DEMO_REGISTRY)", () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry("olareg");
  });
  afterAll(() => registry?.stop());

  it("pushes to quarantine and promotes the digest to trusted with blob mounts", async () => {
    const demo = platform(["demo"], { PLATFORM_DEMO_REGISTRY: registry.host });
    expect(demo.code, demo.stderr).toBe(0);
    const m = new RegExp(
      `promoted ${registry.host}/trusted/orders-api@(sha256:[a-f0-9]{64}) \\(blobs: (\\d+) mounted`,
    ).exec(demo.stdout);
    expect(m, demo.stdout).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    const { stdout } = await promisify(execFile)(registryPeers.paths.skopeo!, [
      "inspect",
      "--tls-verify=false",
      "--format",
      "{{.Digest}}",
      `docker://${registry.host}/trusted/orders-api@${m![1]}`,
    ]);
    expect(stdout.trim()).toBe(m![1]);
  });
});
