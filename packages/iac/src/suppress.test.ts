import { describe, expect, it } from "vitest";
import { validateSarif } from "../../../test/harness/sarif.ts";
import { checkBicep, countFindings, isBlocking, renderIacTable, toIacSarif } from "./index.ts";
import { fixtureFolders, privateEndpointBicep } from "./testing.ts";

const write = fixtureFolders("iac-suppress-");

/** A registry that is compliant except for geo-replication (and whatever `extra` breaks). */
const acr = (extra = "", before = "") => `param replicas array = []
${before}resource acr 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: 'acrdev'
  sku: { name: 'Premium' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Disabled'
    zoneRedundancy: 'Enabled'${extra}
  }
}
@batchSize(1)
resource replications 'Microsoft.ContainerRegistry/registries/replications@2025-11-01' = [for r in replicas: {
  parent: acr
  name: r
  location: r
}]
${privateEndpointBicep("acr", "registry", "privatelink.azurecr.io")}`;

const rows = (r: Awaited<ReturnType<typeof checkBicep>>) =>
  r.findings.map((f) => [f.rule, f.verdict, f.file, f.line, f.suppressed?.justification ?? null]);

describe("// iac-check: ignore <rule> <reason>", () => {
  it("in a .bicepparam exempts that environment only, and says so", async () => {
    const root = await write({
      "main.bicep": acr(),
      "parameters/dev.bicepparam":
        "using '../main.bicep'\n// iac-check: ignore Azure.ACR.GeoReplica dev is single-region\nparam replicas = []\n",
      "parameters/prod.bicepparam": "using '../main.bicep'\nparam replicas = []\n",
      "parameters/standby.bicepparam": "using '../main.bicep'\nparam replicas = ['northeurope']\n",
    });
    const dev = await checkBicep(["."], { root, environment: "dev" });
    expect(rows(dev)).toEqual([["Azure.ACR.GeoReplica", "fail", "main.bicep", 2, "dev is single-region"]]);
    expect(dev.findings.filter((f) => isBlocking(f))).toEqual([]);
    expect(countFindings(dev.findings)).toEqual({ fail: 0, unknown: 0, error: 0, suppressed: 1 });
    expect(renderIacTable(dev)).toMatch(
      /SUPPRESSED\s+Azure\.ACR\.GeoReplica\s+main\.bicep:2 .*\[suppressed at parameters\/dev\.bicepparam:2: dev is single-region\]/,
    );
    expect(renderIacTable(dev).split("\n").at(-1)).toMatch(/^PASSED: .*, 1 suppressed$/);
    // The same template with prod's parameters is not exempt.
    const prod = await checkBicep(["."], { root, environment: "prod" });
    expect(rows(prod)).toEqual([["Azure.ACR.GeoReplica", "fail", "main.bicep", 2, null]]);
    expect(prod.findings.filter((f) => isBlocking(f))).toHaveLength(1);
    // An explicit --parameters file works the same as --env.
    const explicit = await checkBicep(["main.bicep"], { root, parameters: "parameters/dev.bicepparam" });
    expect(rows(explicit)).toEqual(rows(dev));
    // And an environment that satisfies the control reports nothing.
    expect((await checkBicep(["."], { root, environment: "standby" })).findings).toEqual([]);
  });

  it("in a .bicep exempts the declaration it precedes (decorators included) or the property it trails", async () => {
    const src = acr(
      "\n    dataEndpointEnabled: true\n    adminUserEnabled: true // iac-check: ignore Azure.ACR.AdminUser break-glass pushes from the release pipeline",
      "// iac-check: ignore Azure.ACR.GeoReplica a lab registry, rebuilt on demand\n",
    ).replace("    adminUserEnabled: false\n", "");
    const root = await write({ "main.bicep": src });
    const r = await checkBicep(["main.bicep"], { root });
    expect(rows(r)).toEqual([
      ["Azure.ACR.AdminUser", "fail", "main.bicep", 11, "break-glass pushes from the release pipeline"],
      ["Azure.ACR.GeoReplica", "fail", "main.bicep", 3, "a lab registry, rebuilt on demand"],
    ]);
    const sarif = toIacSarif(r.findings);
    expect(validateSarif(sarif)).toEqual([]);
    const results = (sarif.runs as { results: { ruleId: string; suppressions?: unknown[] }[] }[])[0]!.results;
    expect(results.find((x) => x.ruleId === "Azure.ACR.GeoReplica")!.suppressions).toEqual([
      {
        kind: "inSource",
        justification: "a lab registry, rebuilt on demand",
        location: { physicalLocation: { artifactLocation: { uri: "main.bicep" }, region: { startLine: 2 } } },
      },
    ]);
    // A comment before a decorated declaration covers the declaration, not just the decorator.
    const decorated = acr(
      "",
      "// iac-check: ignore Azure.ACR.GeoReplica lab registry\n@description('lab')\n",
    );
    const d = await checkBicep(["main.bicep"], { root: await write({ "main.bicep": decorated }) });
    expect(rows(d)).toEqual([["Azure.ACR.GeoReplica", "fail", "main.bicep", 4, "lab registry"]]);
  });

  it("does not reach beyond the declaration it precedes", async () => {
    const src = acr("", "// iac-check: ignore Azure.ACR.GeoReplica wrong place\nvar unrelated = 1\n");
    const r = await checkBicep(["main.bicep"], { root: await write({ "main.bicep": src }) });
    expect(rows(r)).toEqual([
      ["Azure.ACR.GeoReplica", "fail", "main.bicep", 4, null],
      ["Platform.IaC.UnusedSuppression", "fail", "main.bicep", 2, null],
    ]);
    expect(r.findings[1]!.severity).toBe("warning");
    expect(r.findings.filter((f) => isBlocking(f)).map((f) => f.rule)).toEqual(["Azure.ACR.GeoReplica"]);
  });

  it("rejects a suppression without a reason or with an unknown rule id (error at the comment)", async () => {
    const root = await write({
      "main.bicep": acr(
        "",
        "// iac-check: ignore Azure.ACR.GeoReplica\n// iac-check: ignore Azure.ACR.GeoReplika typo in the id\n",
      ),
    });
    const r = await checkBicep(["main.bicep"], { root });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.line])).toEqual([
      ["Platform.IaC.Suppression", "error", 2],
      ["Platform.IaC.Suppression", "error", 3],
      ["Azure.ACR.GeoReplica", "fail", 4],
    ]);
    expect(r.findings[0]!.message).toContain("needs a reason");
    expect(r.findings[1]!.message).toContain("unknown rule 'Azure.ACR.GeoReplika'");
  });
});
