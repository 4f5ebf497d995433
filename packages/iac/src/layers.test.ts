import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicep } from "./check.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const LAYER1 = join(REPO, "infra-bicep", "layer1-platform");
const failures = (r: Awaited<ReturnType<typeof checkBicep>>) =>
  r.findings.filter((f) => f.verdict === "fail" || f.verdict === "error");

describe("infra-bicep layer 1 (the real modules)", () => {
  it("passes every rule with the prod and standby parameters", async () => {
    for (const env of ["prod", "standby"]) {
      const r = await checkBicep([LAYER1], {
        root: REPO,
        parameters: join(LAYER1, "parameters", `${env}.bicepparam`),
      });
      expect(failures(r), env).toEqual([]);
      expect(r.resources.length).toBeGreaterThan(10);
    }
  });

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
