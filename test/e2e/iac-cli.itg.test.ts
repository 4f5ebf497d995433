import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateEndpointBicep } from "../../packages/iac/src/testing.ts";
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
${privateEndpointBicep("kv", "vault", "privatelink.vaultcore.azure.net")}`;
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

describe("platform iac check infra-bicep --env (what ci.yml runs, from the repo checkout)", () => {
  const inRepo = (args: string[], cwd = REPO_ROOT) => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd,
      encoding: "utf8",
      env: { PATH: process.env.PATH, NO_COLOR: "1" },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it.each(["dev", "prod", "standby"])("layers 0–3 pass with the %s parameters", (env) => {
    const r = inRepo(["iac", "check", "infra-bicep", "--env", env, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ passed: true, environment: env, fail: 0, unknown: 0, error: 0 });
    expect(out.summary.rulesEvaluated).toBeGreaterThan(40);
    expect(out.summary.parameterFiles).toEqual(
      ["layer0-landing-zone", "layer1-platform", "layer2-bootstrap", "layer3-team-onboarding"].map(
        (l) => `infra-bicep/${l}/parameters/${env}.bicepparam`,
      ),
    );
    // dev's exemption is reported, with its reason and where it is written; no other environment has one.
    expect(
      out.findings.map((f: { rule: string; suppressed?: { file: string } }) => [f.rule, f.suppressed?.file]),
    ).toEqual(
      env === "dev"
        ? [["Azure.ACR.GeoReplica", "infra-bicep/layer1-platform/parameters/dev.bicepparam"]]
        : [],
    );
  });

  it("refuses an environment without parameters files (exit 2, naming --env)", () => {
    const r = inRepo(["iac", "check", "infra-bicep", "--env", "qa"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no parameters/qa.bicepparam");
  });

  it("fails dev once its exemption is removed (exit 1, the finding at the registry's line)", async () => {
    const copy = await mkdtemp(join(tmpdir(), "iac-infra-"));
    try {
      await cp(join(REPO_ROOT, "infra-bicep"), join(copy, "infra-bicep"), { recursive: true });
      const params = join(copy, "infra-bicep", "layer1-platform", "parameters", "dev.bicepparam");
      const text = await readFile(params, "utf8");
      await writeFile(params, text.replace(/^\/\/ iac-check: ignore .*\n/m, ""));
      const r = inRepo(["iac", "check", "infra-bicep", "--env", "dev"], copy);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /FAIL\s+Azure\.ACR\.GeoReplica\s+infra-bicep\/layer1-platform\/modules\/acr\/main\.bicep:\d+\s+acrplatdev/,
      );
      expect(r.stdout).not.toMatch(/SUPPRESSED/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
