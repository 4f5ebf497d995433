import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterSnapshot } from "@platform/aks";
import { createAzureCredential } from "@platform/azure/credential";
import { startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";
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

/** The GitHub OIDC and Entra fakes, and @platform/azure's credential signing in through them (the action's path). */
export async function startSignIn() {
  const github = await startGitHubOidcFake();
  const entra = await startEntraFake({ trust: github });
  const env = {
    ...github.env,
    AZURE_TENANT_ID: "4f1c2d3e-0000-4000-8000-000000000001",
    AZURE_CLIENT_ID: "9a8b7c6d-0000-4000-8000-000000000002",
  };
  return {
    github,
    entra,
    /** The variables a job with `id-token: write` and the two Azure IDs sees. */
    env,
    credential: () =>
      createAzureCredential({
        env,
        authorityHost: entra.url,
        disableInstanceDiscovery: true,
        clientOptions: { tlsOptions: { ca: entra.ca } },
      }),
    close: () => Promise.all([github.close(), entra.close()]),
  };
}
