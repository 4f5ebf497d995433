import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicep } from "./check.ts";
import { getProp } from "./evaluate.ts";
import type { CheckResult, Value } from "./types.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const LAYER1 = join(REPO, "infra-bicep", "layer1-platform");
const failures = (r: Awaited<ReturnType<typeof checkBicep>>) =>
  r.findings.filter((f) => f.verdict === "fail" || f.verdict === "error");

const INFRA = join(REPO, "infra-bicep");
const LAYERS = readdirSync(INFRA).filter((d) => /^layer\d/.test(d));
const ENVIRONMENTS = ["dev", "prod", "standby"];

describe("infra-bicep layers (the real modules)", () => {
  it("has layers 0–3, each with main.bicep, README and a parameters file per environment", () => {
    expect(LAYERS).toEqual([
      "layer0-landing-zone",
      "layer1-platform",
      "layer2-bootstrap",
      "layer3-team-onboarding",
    ]);
    for (const layer of LAYERS)
      for (const f of ["main.bicep", "README.md", ...ENVIRONMENTS.map((e) => `parameters/${e}.bicepparam`)])
        expect(existsSync(join(INFRA, layer, f)), `${layer}/${f}`).toBe(true);
  });

  it.each(ENVIRONMENTS)(
    "checks clean with the %s parameters: nothing failed, unknown or unparsed",
    async (env) => {
      const r = await checkBicep(["infra-bicep"], { root: REPO, environment: env });
      expect(r.findings.filter((f) => !f.suppressed)).toEqual([]);
      // The only exemption: dev's registry has no geo-replica (documented in its parameters file).
      expect(r.findings.map((f) => [f.rule, f.suppressed?.file])).toEqual(
        env === "dev"
          ? [["Azure.ACR.GeoReplica", "infra-bicep/layer1-platform/parameters/dev.bicepparam"]]
          : [],
      );
      const types = new Set(r.resources.filter((x) => !x.existing).map((x) => x.type.toLowerCase()));
      for (const t of [
        "Microsoft.ContainerService/managedClusters",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Network/azureFirewalls",
        "Microsoft.KubernetesConfiguration/fluxConfigurations",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
      ])
        expect(types, `${env}: ${t}`).toContain(t.toLowerCase());
      expect(r.rulesEvaluated).toBeGreaterThan(30);
    },
  );

  it("reports exactly the control that a copy breaks (local accounts turned on), at its line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "layer1-"));
    try {
      await cp(LAYER1, dir, { recursive: true });
      const aks = join(dir, "modules", "aks", "main.bicep");
      const text = await readFile(aks, "utf8");
      expect(text).toContain("disableLocalAccounts: true");
      await writeFile(aks, text.replace("disableLocalAccounts: true", "disableLocalAccounts: false"));
      const r = await checkBicep([dir], {
        root: dir,
        parameters: join(dir, "parameters", "prod.bicepparam"),
      });
      const f = failures(r);
      expect(f.map((x) => x.rule)).toEqual(["Azure.AKS.LocalAccounts"]);
      expect(f[0]!.file).toBe("modules/aks/main.bicep");
      expect(f[0]!.line).toBe(text.split("\n").findIndex((l) => l.includes("disableLocalAccounts")) + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("layer 3: the Bicep and the manifests it delivers agree", () => {
  const LAYER3 = join(INFRA, "layer3-team-onboarding");
  const varsIn = (dir: string): Set<string> => {
    const out = new Set<string>();
    // What kustomize builds (resources, comments dropped) is what Flux substitutes.
    for (const f of readdirSync(dir, { recursive: true, withFileTypes: true }))
      if (f.isFile() && f.name.endsWith(".yaml") && f.name !== "kustomization.yaml") {
        const text = readFileSync(join(f.parentPath, f.name), "utf8").replace(/^\s*#.*$/gm, "");
        for (const m of text.matchAll(/\$\{([A-Z_]+)\}/g)) out.add(m[1]!);
      }
    return out;
  };
  const substitute = (r: CheckResult, name: string) =>
    r.resources
      .filter((x) => x.type === "Microsoft.KubernetesConfiguration/fluxConfigurations" && x.name === name)
      .map((x) => {
        const kustomizations = getProp(getProp(x.body, "properties"), "kustomizations") as Record<
          string,
          Value
        >;
        const [k] = Object.values(kustomizations);
        return getProp(getProp(k, "postBuild"), "substitute") as Record<string, Value>;
      })[0]!;

  it.each(ENVIRONMENTS)(
    "%s: every template variable is substituted, and the identity matches the ServiceAccount",
    async (env) => {
      const r = await checkBicep([LAYER3], { root: REPO, environment: env });
      const onboarding = substitute(r, "team-team-a-onboarding");
      expect(new Set(Object.keys(onboarding))).toEqual(varsIn(join(LAYER3, "manifests", "team")));
      for (const team of ["team-a", "team-b"]) {
        const own = substitute(r, `team-${team}`);
        for (const v of varsIn(join(LAYER3, "manifests", "teams", team)))
          expect(Object.keys(own)).toContain(v);
      }
      // The federated credential's subject is exactly the ServiceAccount the template creates.
      const subjects = r.resources
        .filter((x) => x.type.endsWith("/federatedIdentityCredentials"))
        .map((x) => getProp(getProp(x.body, "properties"), "subject"));
      expect(subjects).toContain(
        `system:serviceaccount:${onboarding.TEAM_NAMESPACE}:${onboarding.SERVICE_ACCOUNT}`,
      );
      expect(subjects).toEqual(["system:serviceaccount:team-a:web", "system:serviceaccount:team-b:api"]);
      // Nothing secret travels to the cluster: no protected settings, no credentials in the Flux configurations.
      for (const x of r.resources.filter((y) => y.type.endsWith("/fluxConfigurations"))) {
        const props = getProp(x.body, "properties");
        expect(getProp(props, "configurationProtectedSettings")).toBeUndefined();
        expect(getProp(getProp(props, "gitRepository"), "httpsUser")).toBeUndefined();
      }
    },
  );
});
