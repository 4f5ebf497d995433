import { describe, expect, it } from "vitest";
import { validateSarif } from "../../../test/harness/sarif.ts";
import { type CheckResult, checkBicep, renderIacMarkdown, renderIacTable, toIacSarif } from "./index.ts";
import { fixtureFolders, privateEndpointBicep } from "./testing.ts";

const write = fixtureFolders("iac-report-");

/** A vault's private endpoint in privatelink.vaultcore.azure.net (Platform.KeyVault.PrivateEndpoint). */
const KV_PE = privateEndpointBicep("kv", "vault", "privatelink.vaultcore.azure.net");
const vaults = (r: CheckResult) => r.resources.filter((x) => x.type === "Microsoft.KeyVault/vaults");

const KV_BAD = `param open string
resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv'
  properties: {
    enableRbacAuthorization: false
    enablePurgeProtection: true
    publicNetworkAccess: open
    networkAcls: { defaultAction: 'Deny' }
  }
}
${KV_PE}`;

describe("SARIF, table and summary", () => {
  it("writes valid SARIF 2.1.0 with rule help and .bicep file:line regions", async () => {
    const root = await write({ "kv.bicep": KV_BAD, "broken.bicep": "var x = {\n  a: \n" });
    const r = await checkBicep(["."], { root });
    const sarif = toIacSarif(r.findings, { version: "1.2.3" });
    expect(validateSarif(sarif)).toEqual([]);
    const run = (
      sarif.runs as {
        tool: { driver: { rules: { id: string; help: { text: string } }[] } };
        results: Record<string, unknown>[];
      }[]
    )[0]!;
    const rbac = run.tool.driver.rules.find((x) => x.id === "Azure.KeyVault.RBAC")!;
    expect(rbac.help.text).toContain("enableRbacAuthorization: true");
    expect(run.tool.driver.rules.map((x) => x.id)).toContain("Platform.IaC.ParseError");
    const result = run.results.find((x) => x.ruleId === "Azure.KeyVault.RBAC")!;
    expect(result.level).toBe("error");
    expect(result.locations).toEqual([
      { physicalLocation: { artifactLocation: { uri: "kv.bicep" }, region: { startLine: 5 } } },
    ]);
    expect(run.results.find((x) => x.ruleId === "Platform.KeyVault.PublicAccess")!.level).toBe("note");
  });

  it("renders a table with verdicts and a failing summary line", async () => {
    const root = await write({ "kv.bicep": KV_BAD });
    const r = await checkBicep(["kv.bicep"], { root });
    const table = renderIacTable(r);
    expect(table).toMatch(/^verdict\s+rule\s+location\s+resource\s+message/);
    expect(table).toMatch(/FAIL\s+Azure\.KeyVault\.RBAC\s+kv\.bicep:5\s+kv\s+Key Vault uses Azure RBAC/);
    expect(table).toMatch(/UNKNOWN\s+Platform\.KeyVault\.PublicAccess\s+kv\.bicep:7/);
    expect(table.split("\n").at(-1)).toMatch(
      /^FAILED: 3 resources in 1 files, \d+ rule evaluations; 1 failed, 1 unknown, 0 errors$/,
    );
    expect(renderIacMarkdown(r)).toContain("| fail | Azure.KeyVault.RBAC | `kv.bicep:5` |");
  });

  it("passes when only unknowns remain, unless unknowns fail", async () => {
    const root = await write({
      "kv.bicep": KV_BAD.replace("enableRbacAuthorization: false", "enableRbacAuthorization: true"),
    });
    const r = await checkBicep(["kv.bicep"], { root });
    expect(renderIacTable(r).split("\n").at(-1)).toMatch(/^PASSED/);
    expect(renderIacTable(r, { failOnUnknown: true }).split("\n").at(-1)).toMatch(/^FAILED/);
  });
});

describe("modules", () => {
  const MAIN = `param env string = 'prod'
param open string = 'Disabled'
module vault './modules/vault.bicep' = {
  name: 'vault'
  params: {
    name: 'kv-\${env}'
    publicAccess: open
  }
}
module unused './modules/vault.bicep' = if (env == 'dev') {
  name: 'devvault'
  params: { name: 'kv-dev', publicAccess: 'Enabled' }
}
module remote 'br/public:avm/res/key-vault/vault:0.1.0' = {
  name: 'remote'
}
`;
  const VAULT = `param name string
param publicAccess string
param rbac bool = true
resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  properties: {
    enableRbacAuthorization: rbac
    enablePurgeProtection: true
    publicNetworkAccess: publicAccess
    networkAcls: { defaultAction: 'Deny' }
  }
}
${KV_PE}`;

  it("checks modules through their parent, with the params it passes", async () => {
    const root = await write({ "main.bicep": MAIN, "modules/vault.bicep": VAULT });
    const r = await checkBicep(["."], { root });
    // The module file is not also checked on its own (its params would be unknown there).
    expect(r.findings).toEqual([]);
    expect(vaults(r).map((x) => [x.name, x.file])).toEqual([["kv-prod", "modules/vault.bicep"]]);
  });

  it("reports a violation in the module at the module's file:line, driven by the parent's parameters", async () => {
    const root = await write({
      "main.bicep": MAIN,
      "modules/vault.bicep": VAULT,
      "dev.bicepparam": "using './main.bicep'\nparam env = 'dev'\nparam open = 'Enabled'\n",
    });
    const r = await checkBicep(["main.bicep"], { root, parameters: "dev.bicepparam" });
    expect(vaults(r).map((x) => x.name)).toEqual(["kv-dev", "kv-dev"]);
    // Both module uses break the same control on the same line: reported once per resource name.
    expect(r.findings.map((f) => [f.rule, f.file, f.line, f.resourceName])).toEqual([
      ["Platform.KeyVault.PublicAccess", "modules/vault.bicep", 9, "kv-dev"],
    ]);
  });

  it("marks resources of a module with an unknown condition as conditional, and reports cycles", async () => {
    const root = await write({
      "a.bicep": "param x bool\nmodule b './b.bicep' = if (x) {\n  name: 'b'\n}\n",
      "b.bicep": `module a './a.bicep' = {\n  name: 'a'\n}\nresource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {\n  name: 'kv'\n  properties: { enableRbacAuthorization: true, enablePurgeProtection: true, publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Deny' } }\n}\n${KV_PE}`,
    });
    const r = await checkBicep(["a.bicep"], { root });
    expect(vaults(r).map((x) => [x.name, x.condition])).toEqual([["kv", "unknown"]]);
    // Whether the private endpoint deploys with the vault is not known either: only unknowns besides the cycle.
    const known = r.findings.filter((f) => f.verdict !== "unknown");
    expect(known.map((f) => [f.rule, f.file, f.line])).toEqual([["Platform.IaC.ModuleError", "b.bicep", 1]]);
  });
});
