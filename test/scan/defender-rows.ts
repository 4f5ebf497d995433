// Defender for Containers sub-assessment rows for the Resource Graph fake: the Learn-documented MDVM row and
// the swagger's own Qualys-era example, with only values changed (ids, packages, severities, digests).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SPECS_ROOT } from "../fakes/arm/index.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");
export const SUB = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
export const RG_SPEC =
  "resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json";
export const SEC_SPEC =
  "security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/subAssessments.json";

// biome-ignore lint/suspicious/noExplicitAny: fixture rows are JSON edited by path in the test
export type Row = Record<string, any>;
const learnRow: Row = JSON.parse(readFileSync(join(FIXTURES, "scan/defender/mdvm-row.learn.json"), "utf8"));
export const swaggerExample = JSON.parse(
  readFileSync(
    join(
      SPECS_ROOT,
      "security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/examples/SubAssessments/ListSubscriptionSubAssessments_example.json",
    ),
    "utf8",
  ),
);

/** A documented MDVM row with other values: only values change, never the shape. */
export function mdvmRow(
  n: number,
  digest: string,
  v: {
    id: string;
    pkg: string;
    version: string;
    fixed: string;
    severity: string;
    category: "OS" | "Language";
    code?: string;
  },
): Row {
  const row: Row = structuredClone(learnRow);
  row.id = `/subscriptions/${SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/northwind/providers/Microsoft.Security/assessments/c0b7cfc6-3172-465a-b378-53c7ff2cc0d5/subassessments/${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  row.name = row.id.split("/").pop();
  row.subscriptionId = SUB;
  const p = row.properties;
  p.id = v.id;
  p.displayName = v.id;
  // status.severity has no Critical (Low/Medium/High); the CVE's own severity carries it.
  p.status = { severity: v.severity === "Critical" ? "High" : v.severity, code: v.code ?? "Unhealthy" };
  p.additionalData.vulnerabilityDetails.severity = v.severity;
  p.additionalData.vulnerabilityDetails.cveId = v.id;
  p.additionalData.artifactDetails.digest = digest;
  p.additionalData.artifactDetails.repositoryName = "quarantine/orders-api";
  p.additionalData.artifactDetails.registryHost = "northwind.azurecr.io";
  Object.assign(p.additionalData.softwareDetails, {
    packageName: v.pkg,
    version: v.version,
    fixedVersion: v.fixed,
    category: v.category,
    language: v.category === "OS" ? "" : "python",
    fixStatus: v.fixed ? "FixAvailable" : "NoFixAvailable",
  });
  return row;
}

/** The digest a Resource Graph query asks for (the one value our KQL interpolates). */
export function queriedDigest(body: unknown): string | undefined {
  return /imageDigest == "(sha256:[a-f0-9]{64})"/.exec((body as { query: string }).query)?.[1];
}
