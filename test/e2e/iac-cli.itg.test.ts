import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateSarif } from "../harness/sarif.ts";
import { REPO_ROOT } from "../peers/index.ts";

const CLI = join(REPO_ROOT, "packages", "cli", "dist", "platform.js");

const GOOD = `resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-good'
  properties: {
    enableRbacAuthorization: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny' }
  }
}
resource pe 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe-\${kv.name}'
  properties: {
    privateLinkServiceConnections: [{ name: 'vault', properties: { privateLinkServiceId: kv.id, groupIds: ['vault'] } }]
  }
  resource dns 'privateDnsZoneGroups@2025-05-01' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        { name: 'vault', properties: { privateDnsZoneId: '/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net' } }
      ]
    }
  }
}
`;
const BAD = GOOD.replace("kv-good", "kv-bad").replace(
  "enableRbacAuthorization: true",
  "enableRbacAuthorization: false",
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "iac-cli-"));
  await writeFile(join(dir, "good.bicep"), GOOD);
  await writeFile(join(dir, "bad.bicep"), BAD);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function platform(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, NO_COLOR: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("platform iac check (bundled)", () => {
  it("exits 0 with a passing table on a compliant file", () => {
    const r = platform(["iac", "check", "good.bicep"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASSED: 3 resources in 1 files, 6 rule evaluations; 0 failed/m);
  });

  it("exits 1 with the finding at file:line, in the table, --json and SARIF", () => {
    const r = platform(["iac", "check", ".", "--sarif", "out.sarif"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+Azure\.KeyVault\.RBAC\s+bad\.bicep:4\s+kv-bad/);
    expect(r.stdout).toMatch(/^FAILED: 6 resources in 2 files/m);
    const sarif = JSON.parse(readFileSync(join(dir, "out.sarif"), "utf8"));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].results).toHaveLength(1);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "bad.bicep" },
      region: { startLine: 4 },
    });
    const j = platform(["iac", "check", ".", "--json"]);
    expect(j.code).toBe(1);
    const out = JSON.parse(j.stdout);
    expect(
      out.findings.map((f: { rule: string; file: string; line: number }) => [f.rule, f.file, f.line]),
    ).toEqual([["Azure.KeyVault.RBAC", "bad.bicep", 4]]);
    expect(out.summary).toMatchObject({ passed: false, resources: 6, rulesEvaluated: 12, fail: 1 });
  });

  it("reports a missing file as an error finding (exit 1)", () => {
    const r = platform(["iac", "check", "nothing-here.bicep"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERROR\s+Platform\.IaC\.ReadError\s+nothing-here\.bicep:1/);
  });

  it("exits 2 on usage errors", () => {
    expect(platform(["iac", "check"]).code).toBe(2);
    expect(platform(["iac", "check", "good.bicep", "--bogus"]).code).toBe(2);
  });
});
