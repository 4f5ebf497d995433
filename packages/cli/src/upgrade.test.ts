import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { expect, it } from "vitest";
import { runUpgradePlan } from "./upgrade.ts";

const example = join(import.meta.dirname, "../../../examples/northwind/cluster");

it("upgrade plan --description plans offline; a blocked plan exits 1", async () => {
  let out = "";
  const io = {
    out: (s: string) => {
      out += s;
    },
    log: memoryLogger(),
    env: {},
    cwd: example,
  };
  const base = {
    root: example,
    json: true,
    nodePools: [],
    configRepoPath: [],
    description: "aks-northwind-prod.json",
  };
  expect(await runUpgradePlan({ ...base, targetVersion: "latest-patch" }, io)).toBe(0);
  expect(JSON.parse(out).steps[0].id).toBe("control-plane@1.30.10");
  out = "";
  expect(
    await runUpgradePlan({ ...base, targetVersion: "latest-minor", configRepoPath: ["manifests"] }, io),
  ).toBe(1);
  expect(JSON.parse(out).findings.some((f: { check: string }) => f.check === "removed-api")).toBe(true);
});
