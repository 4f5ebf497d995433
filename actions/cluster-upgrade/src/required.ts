import { PlatformError } from "@platform/core/errors";

/** Plan mode for one cluster without `cluster`. */
export function missingCluster(): PlatformError {
  return new PlatformError("AKS_CLUSTER_MISSING", "mode: plan needs cluster (or fleet)", {
    input: "cluster",
    hint: "Set cluster to the AKS cluster's name (with subscription-id and resource-group) or its resource ID.",
  });
}

/**
 * What a run targets: one cluster or one fleet, never both, and plan mode needs one of them. main.ts checks
 * this before the input schema and the run's code load; run.ts again on the parsed inputs.
 */
export function checkTarget(t: { cluster?: string; fleet?: string; mode: string }): void {
  if (t.cluster && t.fleet) {
    throw new PlatformError("AKS_CLUSTER_AND_FLEET", "Give cluster or fleet, not both", {
      input: "fleet",
      hint: "One run upgrades one cluster, or every member of one fleet.",
    });
  }
  if (t.mode === "plan" && !t.cluster && !t.fleet) throw missingCluster();
}
