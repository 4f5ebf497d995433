import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCaptured } from "./run-captured.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const NORTHWIND = join(REPO, "examples", "northwind", "platform.yaml");

describe("platform dr drill", () => {
  it("--plan prints Northwind's failover: four steps, every ARM call and budget", async () => {
    const r = await runCaptured(["dr", "drill", "--plan", "--config", NORTHWIND], REPO);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("DR drill: fail over from eastus2 (aks-northwind-prod-eastus2) to centralus");
    expect(r.out).toContain("RTO budget: 31m in 4 steps");
    expect(r.out.match(/^\d\. /gm)).toEqual(["1. ", "2. ", "3. ", "4. "]);
    expect(r.out).toContain(
      "PATCH /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-northwind-standby-centralus/providers/Microsoft.ContainerService/managedClusters/aks-northwind-standby-centralus/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/teams?api-version=2025-04-01",
    );
  });

  it("--plan is the default and -o json prints the plan object", async () => {
    const r = await runCaptured(["dr", "drill", "--config", NORTHWIND, "-o", "json"], REPO);
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out);
    expect(plan.schema).toBe("platform.dr/drill-plan@1");
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual([
      "front-door",
      "flux-resume",
      "kustomizations-ready",
      "acr-replica",
    ]);
  });

  it("refuses --plan with --apply, and a platform.yaml without dr (exit 2, with the fix)", async () => {
    const both = await runCaptured(["dr", "drill", "--plan", "--apply", "--config", NORTHWIND], REPO);
    expect(both.code).toBe(2);
    expect(both.err).toContain("give --plan or --apply, not both");
    const dir = await mkdtemp(join(tmpdir(), "dr-cli-"));
    await writeFile(join(dir, "platform.yaml"), "registries:\n  trusted: [northwind.azurecr.io]\n");
    const none = await runCaptured(["dr", "drill"], dir);
    expect(none.code).toBe(2);
    expect(none.err).toContain("platform.yaml has no dr section");
    expect(none.err).toContain("docs/dr-drill.md");
  });

  it("reports a bad dr section at its line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dr-cli-"));
    await writeFile(
      join(dir, "platform.yaml"),
      "dr:\n  subscription: not-a-guid\n  primary: eastus2\n  standby: centralus\n  regions: []\n  frontDoor: { resourceGroup: rg, profile: p, originGroup: g }\n  acr: { resourceGroup: rg, name: northwindacr }\n",
    );
    const r = await runCaptured(["dr", "drill", "--plan"], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/platform\.yaml:2:\d+/);
    expect(r.err).toContain("dr.subscription");
  });
});
