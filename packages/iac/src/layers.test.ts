import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicep } from "./check.ts";
import { getProp } from "./evaluate.ts";
import { parseBicep } from "./parser.ts";
import type { Value } from "./types.ts";

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

  it.each(ENVIRONMENTS)(
    "%s: every .bicepparam sets only params its template declares, and every required one",
    async (env) => {
      for (const layer of LAYERS) {
        const tree = await parseBicep(readFileSync(join(INFRA, layer, "main.bicep"), "utf8"));
        const declared = new Map<string, boolean>();
        for (const d of tree.rootNode.namedChildren.filter((n) => n.type === "parameter_declaration")) {
          const [name, type, dflt] = d.namedChildren.filter(
            (c) => c.type !== "decorators" && c.type !== "comment",
          );
          const optional = dflt !== undefined || /\?\s*$/.test(type?.text ?? "");
          declared.set(name!.text, !optional);
        }
        tree.delete();
        const text = readFileSync(join(INFRA, layer, "parameters", `${env}.bicepparam`), "utf8");
        const set = [...text.matchAll(/^param\s+([A-Za-z_]\w*)\s*=/gm)].map((m) => m[1]!);
        expect(
          set.filter((p) => !declared.has(p)),
          `${layer}: set but not declared`,
        ).toEqual([]);
        const required = [...declared].filter(([, req]) => req).map(([n]) => n);
        expect(
          required.filter((p) => !set.includes(p)),
          `${layer}: required but not set`,
        ).toEqual([]);
      }
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

describe("layer 3: the Flux configuration reconciles the render", () => {
  const LAYER3 = join(INFRA, "layer3-team-onboarding");
  const RENDER = join(REPO, "examples", "northwind", "teams");

  it.each(ENVIRONMENTS)(
    "%s: one GitRepository named as the rendered Kustomizations' sourceRef, applying the render's flux/",
    async (env) => {
      const r = await checkBicep([LAYER3], { root: REPO, environment: env });
      const flux = r.resources.filter(
        (x) => x.type === "Microsoft.KubernetesConfiguration/fluxConfigurations",
      );
      expect(flux.map((x) => x.name)).toEqual(["config-repo"]);
      const props = getProp(flux[0]!.body, "properties");
      expect(getProp(props, "namespace")).toBe("flux-system");
      const kustomizations = getProp(props, "kustomizations") as Record<string, Value>;
      expect(Object.values(kustomizations).map((k) => getProp(k, "path"))).toEqual(["./teams/flux"]);
      // Every rendered Kustomization points at that GitRepository and at a path under the same render folder.
      const rendered = readdirSync(join(RENDER, "flux"));
      expect(rendered.length).toBeGreaterThan(0);
      for (const f of rendered) {
        const text = readFileSync(join(RENDER, "flux", f), "utf8");
        expect(text).toMatch(/sourceRef:\n\s+kind: GitRepository\n\s+name: config-repo\n/);
        expect(text).toContain(`path: ./teams/${f.replace(/\.yaml$/, "")}\n`);
        expect(text).toMatch(/^ {2}namespace: flux-system$/m);
      }
      // Nothing secret travels to the cluster: no protected settings, no credentials in the Flux configuration.
      expect(getProp(props, "configurationProtectedSettings")).toBeUndefined();
      expect(getProp(getProp(props, "gitRepository"), "httpsUser")).toBeUndefined();
    },
  );
});
