import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWorkspace } from "../../../test/harness/workspace.ts";
import { REPO_ROOT } from "../../../test/peers/index.ts";
import { runCaptured } from "./run-captured.ts";

// A real-shaped Trivy report (alpine OS packages, npm/pip/jar/Go binary targets; see the fixture's README).
const MIXED = readFileSync(join(REPO_ROOT, "test", "fixtures", "scan", "trivy", "image-mixed.json"), "utf8");
const DIGEST = JSON.parse(MIXED).Metadata.RepoDigests[0].split("@")[1] as string;

/** Runs `platform scan gate …` in-process (the real command tree); the error, if any, is on stderr. */
async function run(root: string, ...args: string[]) {
  const r = await runCaptured(["scan", "gate", ...args], root, { NO_COLOR: "1" });
  return { code: r.code, out: r.out, logged: r.err };
}

const clean = JSON.stringify({
  SchemaVersion: 2,
  ArtifactName: `acr.io/app@sha256:${"b".repeat(64)}`,
  ArtifactType: "container_image",
  Metadata: { RepoDigests: [`acr.io/app@sha256:${"b".repeat(64)}`] },
  Results: [{ Target: "acr.io/app (alpine 3.20.3)", Class: "os-pkgs", Type: "alpine" }],
});

describe("platform scan gate (a Trivy report made elsewhere, no build)", () => {
  it("fails at high: exit 1, the failing advisories named, the report's image as subject", async () => {
    const root = await writeWorkspace({ "trivy.json": MIXED }, "scan-gate-");
    const r = await run(root, "--report", "trivy.json", "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { subject: string; passed: boolean; failing: Array<{ id: string }> };
    expect(j.passed).toBe(false);
    expect(j.subject).toContain(DIGEST);
    // CRITICAL and HIGH with or without a fix (fail-on high, only-fixed off); MEDIUM and LOW never fail.
    expect(j.failing.map((f) => f.id).sort()).toEqual(
      [
        "CVE-2021-44228",
        "CVE-2023-45853",
        "CVE-2024-21538",
        "CVE-2024-24790",
        "CVE-2024-34156",
        "CVE-2024-45590",
        "GHSA-9wv6-86v2-598j",
      ].sort(),
    );
    expect(r.logged).toContain("7 finding(s) at or above high");
    expect(r.logged).toContain("the report fails the gate");
  });

  it("only-fixed at critical lets the unfixable zlib advisory through; waivers with an owner cover the rest", async () => {
    const root = await writeWorkspace(
      {
        "trivy.json": MIXED,
        "waivers.yaml":
          "waivers:\n  - id: CVE-2021-44228\n    reason: jar not on the class path\n    owner: team-orders\n    expires: 2999-01-01\n  - id: CVE-2024-24790\n    reason: worker never parses addresses\n    owner: team-orders\n    expires: 2999-01-01\n",
      },
      "scan-gate-",
    );
    const r = await run(
      root,
      "--report",
      "trivy.json",
      "--fail-on",
      "critical",
      "--only-fixed",
      "--waivers",
      "waivers.yaml",
      "--sarif",
      "out/scan.sarif",
      "--json",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { passed: boolean; waived: Array<{ id: string }> };
    expect(j.passed).toBe(true);
    expect(j.waived.map((f) => f.id).sort()).toEqual(["CVE-2021-44228", "CVE-2024-24790"]);
    const sarif = JSON.parse(readFileSync(join(root, "out", "scan.sarif"), "utf8"));
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);
  });

  it("passes a clean report (a scanned target, no findings) with exit 0 and a table", async () => {
    const root = await writeWorkspace({ "clean.json": clean }, "scan-gate-");
    const r = await run(root, "--report", "clean.json");
    expect(r.code).toBe(0);
    expect(r.out).toContain("passed");
  });

  it("with --image, the report must describe that digest", async () => {
    const root = await writeWorkspace({ "trivy.json": MIXED }, "scan-gate-");
    const ok = await run(root, "--report", "trivy.json", "--image", `acr.io/orders@${DIGEST}`, "--json");
    expect(ok.code).toBe(1);
    expect(JSON.parse(ok.out).subject).toBe(`acr.io/orders@${DIGEST}`);
    const other = await run(
      root,
      "--report",
      "trivy.json",
      "--image",
      `acr.io/orders@sha256:${"c".repeat(64)}`,
    );
    expect(other.code).toBe(2);
    expect(other.logged).toContain(`is for ${DIGEST}, not the pushed image`);
  });

  it.each([
    [["--image", "acr.io/orders:1.0"], "not pinned by a digest"],
    [["--image", "acr.io/Orders@sha256:abc"], "not a valid image reference"],
  ])("refuses an image that binds nothing: %j", async (args, text) => {
    const root = await writeWorkspace({ "trivy.json": MIXED }, "scan-gate-");
    const r = await run(root, "--report", "trivy.json", ...args);
    expect(r.code).toBe(2);
    expect(r.logged).toContain(text);
    expect(r.out).toBe("");
  });

  it.each([
    ["no Results", JSON.stringify({ SchemaVersion: 2, ArtifactName: "x" }), "scanned nothing"],
    ["an empty Results list", JSON.stringify({ SchemaVersion: 2, Results: [] }), "scanned nothing"],
    ["SARIF, not a Trivy report", JSON.stringify({ version: "2.1.0", runs: [] }), "not a Trivy JSON report"],
    ["not JSON", "Total: 3 (HIGH: 3)\n", "not JSON"],
  ])("an input error (exit 2), never a pass: %s", async (_what, text, says) => {
    const root = await writeWorkspace({ "r.json": text }, "scan-gate-");
    const r = await run(root, "--report", "r.json");
    expect(r.code).toBe(2);
    expect(r.logged).toContain(says);
  });

  it("a missing report names the input", async () => {
    const root = await writeWorkspace({ "x.txt": "" }, "scan-gate-");
    const r = await run(root, "--report", "nope.json");
    expect(r.code).toBe(2);
    expect(r.logged).toContain("cannot read scan report nope.json");
  });
});
