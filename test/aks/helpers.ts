import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterSnapshot } from "@platform/aks";
import { REPO_ROOT } from "../peers/index.ts";

/** The Northwind cluster description (the demo's), with the overrides a scenario needs. */
export function northwind(over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const base = JSON.parse(
    readFileSync(join(REPO_ROOT, "examples", "northwind", "cluster", "aks-northwind-prod.json"), "utf8"),
  ) as ClusterSnapshot;
  return { ...base, ...over };
}

/** A maintenance window that is open right now (daily, starting an hour ago) or one that is not. */
export function windowAround(now: Date, open: boolean): ClusterSnapshot["maintenance"] {
  const start = new Date(now.getTime() + (open ? -3_600_000 : 6 * 3_600_000));
  const hhmm = start.toISOString().slice(11, 16);
  const window = {
    schedule: { daily: { intervalDays: 1 } },
    durationHours: 4,
    startTime: hhmm,
    utcOffset: "+00:00",
  };
  return [
    { name: "aksManagedAutoUpgradeSchedule", window },
    { name: "aksManagedNodeOSUpgradeSchedule", window },
  ];
}
