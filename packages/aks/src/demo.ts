import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { planFromSnapshot } from "./run.ts";
import { planText } from "./summary.ts";
import type { ClusterSnapshot } from "./types.ts";

/**
 * The demo: plans the bundled Northwind cluster description to the latest minor, offline. The maintenance
 * windows it names are the next ones after `now` (the real clock unless a test injects one).
 */
export async function demoUpgradeText(exampleDir: string, now = new Date()): Promise<string> {
  const dir = join(exampleDir, "cluster");
  const snapshot = JSON.parse(
    await readFile(join(dir, "aks-northwind-prod.json"), "utf8"),
  ) as ClusterSnapshot;
  const plan = await planFromSnapshot(snapshot, {
    targetVersion: "latest-minor",
    configRepoPath: ["manifests"],
    root: dir,
    now,
  });
  return planText(plan);
}
