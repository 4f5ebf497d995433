// build-scan without `image`, as GitHub runs it (the bundled action as a process): the step gates a Trivy
// report made elsewhere (`platform scan gate` in a workflow), builds and pushes nothing, and fails closed on a
// report that checked nothing.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBundledAction } from "../harness/run-action.ts";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "scan", "trivy", "image-mixed.json");

async function workspace(files: Record<string, string>): Promise<string> {
  const ws = await mkdtemp(join(tmpdir(), "build-scan-gate-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(ws, name), text);
  return ws;
}

describe("build-scan with scan-report and no image: gate only", () => {
  it("fails the step on the report's findings, annotates them at the report, builds nothing", async () => {
    const ws = await workspace({ "trivy.json": await readFile(FIXTURE, "utf8") });
    const run = await runBundledAction("build-scan", { "scan-report": "trivy.json" }, { workspace: ws });
    expect(run.code, run.stderr).toBe(1);
    // 16 entries in the report; cross-spawn's advisory in two targets is one finding.
    expect(run.outputs.findings).toBe("15");
    expect(run.outputs.digest).toBe("");
    expect(JSON.parse(run.outputs.result!)).toMatchObject({ scanner: "trivy report", passed: false });
    expect(run.annotations.some((a) => a.file === "trivy.json" && a.title === "CVE-2021-44228")).toBe(true);
    expect(run.summary).toContain("failed");
  });

  it("passes with fail-on critical, only-fixed and owned waivers for the two fixable criticals", async () => {
    const ws = await workspace({
      "trivy.json": await readFile(FIXTURE, "utf8"),
      "waivers.yaml":
        "waivers:\n  - id: CVE-2021-44228\n    reason: jar not on the class path\n    owner: team-orders\n    expires: 2999-01-01\n  - id: CVE-2024-24790\n    reason: worker never parses addresses\n    owner: team-orders\n    expires: 2999-01-01\n",
    });
    const run = await runBundledAction(
      "build-scan",
      { "scan-report": "trivy.json", "fail-on": "critical", "only-fixed": "true", waivers: "waivers.yaml" },
      { workspace: ws },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.outputs.result!)).toMatchObject({ passed: true });
  });

  it.each([
    [{}, "scan-report"],
    [{ "scan-report": "r.json", "promote-to": "acr.io/trusted/app" }, "promote-to need image"],
    [{ "scan-report": "empty.json" }, "scanned nothing"],
  ])("refuses %j (exit 1 with the reason, nothing gated)", async (inputs, says) => {
    const ws = await workspace({
      "r.json": await readFile(FIXTURE, "utf8"),
      "empty.json": JSON.stringify({ SchemaVersion: 2, ArtifactName: "x" }),
    });
    const run = await runBundledAction("build-scan", inputs as Record<string, string>, { workspace: ws });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(says);
    expect(run.outputs.findings).toBeUndefined();
  });
});
