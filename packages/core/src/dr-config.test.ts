import { describe, expect, it } from "vitest";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { parseConfig } from "./config.ts";

const DR = `dr:
  subscription: 00000000-0000-0000-0000-000000000000
  primary: eastus2
  standby: centralus
  regions:
    - name: eastus2
      resourceGroup: rg-nw-eastus2
      cluster: aks-nw-eastus2
      origin: aks-eastus2
      fluxConfigurations: [platform, teams]
    - name: centralus
      resourceGroup: rg-nw-centralus
      cluster: aks-nw-centralus
      origin: aks-centralus
      fluxConfigurations: [platform, teams]
      replication: centralus
  frontDoor: { resourceGroup: rg-nw-global, profile: afd-northwind, originGroup: storefront }
  acr: { resourceGroup: rg-nw-global, name: northwindacr }
`;

describe("platform.yaml dr", () => {
  it("reads the topology and fills the seed's 31-minute budget", () => {
    const dr = parseConfig(DR, "platform.yaml").dr!;
    expect(dr.primary).toBe("eastus2");
    expect(dr.regions.map((r) => [r.name, r.fluxConfigurations])).toEqual([
      ["eastus2", ["platform", "teams"]],
      ["centralus", ["platform", "teams"]],
    ]);
    expect(dr.rto).toEqual({ frontDoor: 300, fluxResume: 180, kustomizations: 1200, registry: 180 });
    expect(dr.pollInterval).toBe(10);
  });

  it("reads durations in seconds, minutes and hours", () => {
    const dr = parseConfig(
      `${DR}  rto: { frontDoor: 90s, fluxResume: 2m, kustomizations: 1h, registry: 45 }\n`,
      "p.yaml",
    ).dr!;
    expect(dr.rto).toEqual({ frontDoor: 90, fluxResume: 120, kustomizations: 3600, registry: 45 });
  });

  it.each([
    [
      "a standby that is not a listed region",
      DR.replace("standby: centralus", "standby: westus3"),
      4,
      "dr.standby",
    ],
    ["primary = standby", DR.replace("standby: centralus", "standby: eastus2"), 4, "dr.standby"],
    ["a region listed twice", DR.replace("- name: centralus", "- name: eastus2"), 11, "dr.regions.1.name"],
    [
      "two regions on one origin",
      DR.replace("origin: aks-centralus", "origin: aks-eastus2"),
      14,
      "dr.regions.1.origin",
    ],
    ["a bad ACR name", DR.replace("name: northwindacr", "name: north-wind"), 18, "dr.acr.name"],
    ["a zero duration", `${DR}  rto: { frontDoor: 0m }\n`, 19, "dr.rto.frontDoor"],
    ["an unknown key", DR.replace("  primary:", "  primry: eastus2\n  primary:"), 3, "(top level)|dr"],
  ])("rejects %s at its line", (_what, text, line, where) => {
    const e = thrownPlatformError(() => parseConfig(text, "platform.yaml"));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.file).toBe("platform.yaml");
    expect(e.line).toBe(line);
    expect(e.column).toBeGreaterThan(0);
    expect(e.message).toMatch(new RegExp(`^(${where})`));
  });
});
