import { join } from "node:path";
import { loadConfig, PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { formatSeconds, planDrill, planText } from "./plan.ts";

const NORTHWIND = join(import.meta.dirname, "..", "..", "..", "examples", "northwind", "platform.yaml");
const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001";

describe("planDrill on Northwind", async () => {
  const { config } = await loadConfig(NORTHWIND, { explicit: true });
  const plan = planDrill(config.dr);

  it("fails over East US 2 → Central US in the seed's order, within 31 minutes", () => {
    expect([plan.from.region, plan.to.region]).toEqual(["eastus2", "centralus"]);
    expect(plan.steps.map((s) => [s.id, s.budgetSeconds])).toEqual([
      ["front-door", 300],
      ["flux-resume", 180],
      ["kustomizations-ready", 1200],
      ["acr-replica", 180],
    ]);
    expect(plan.budgetSeconds).toBe(31 * 60);
  });

  it("promotes the standby origin before it demotes the primary", () => {
    const writes = plan.steps[0]!.calls.filter((c) => c.method === "PATCH");
    expect(writes.map((c) => [c.path, c.apiVersion, c.body])).toEqual([
      [
        `${SUB}/resourceGroups/rg-northwind-global/providers/Microsoft.Cdn/profiles/afd-northwind/originGroups/storefront/origins/aks-centralus`,
        "2025-06-01",
        { properties: { priority: 1, enabledState: "Enabled" } },
      ],
      [
        `${SUB}/resourceGroups/rg-northwind-global/providers/Microsoft.Cdn/profiles/afd-northwind/originGroups/storefront/origins/aks-eastus2`,
        "2025-06-01",
        { properties: { priority: 2 } },
      ],
    ]);
  });

  it("un-suspends only the standby cluster's Flux configurations and waits on the same ones", () => {
    const flux = (p: string) =>
      `${SUB}/resourceGroups/rg-northwind-standby-centralus/providers/Microsoft.ContainerService/managedClusters/aks-northwind-standby-centralus/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/${p}`;
    const resume = plan.steps[1]!.calls.filter((c) => c.method === "PATCH");
    expect(resume.map((c) => [c.path, c.apiVersion, c.body])).toEqual([
      [flux("platform"), "2025-04-01", { properties: { suspend: false } }],
      [flux("teams"), "2025-04-01", { properties: { suspend: false } }],
    ]);
    expect(plan.steps[2]!.calls.map((c) => [c.method, c.path])).toEqual([
      ["GET", flux("platform")],
      ["GET", flux("teams")],
    ]);
    expect(JSON.stringify(plan)).not.toContain(
      "aks-northwind-prod-eastus2/providers/Microsoft.KubernetesConfiguration",
    );
  });

  it("checks the registry's replica in the standby region", () => {
    expect(plan.steps[3]!.calls.map((c) => [c.method, c.path, c.apiVersion])).toEqual([
      [
        "GET",
        `${SUB}/resourceGroups/rg-northwind-global/providers/Microsoft.ContainerRegistry/registries/northwindacr/replications/centralus`,
        "2025-11-01",
      ],
      [
        "PATCH",
        `${SUB}/resourceGroups/rg-northwind-global/providers/Microsoft.ContainerRegistry/registries/northwindacr/replications/centralus`,
        "2025-11-01",
      ],
    ]);
  });

  it("prints every call with method, path, api-version and body, and each budget", () => {
    const text = planText(plan);
    expect(text).toContain("RTO budget: 31m in 4 steps");
    expect(text).toContain(
      "PATCH /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-northwind-global/providers/Microsoft.Cdn/profiles/afd-northwind/originGroups/storefront/origins/aks-centralus?api-version=2025-06-01",
    );
    expect(text).toContain('body: {"properties":{"suspend":false}}');
    expect(text).toContain("3. kustomizations-ready");
    expect(text).toContain("[budget 20m]");
  });

  it("has a fingerprint that follows the topology", () => {
    const other = planDrill({ ...config.dr!, standby: "eastus2", primary: "centralus" });
    expect(other.fingerprint).not.toBe(plan.fingerprint);
    expect(planDrill(config.dr).fingerprint).toBe(plan.fingerprint);
  });
});

describe("planDrill", () => {
  it("refuses a platform.yaml without dr", () => {
    expect(() => planDrill(undefined)).toThrow(PlatformError);
  });

  it("formats durations", () => {
    expect([45, 90, 300, 1860, 3600].map(formatSeconds)).toEqual(["45s", "1m30s", "5m", "31m", "1h"]);
  });
});
