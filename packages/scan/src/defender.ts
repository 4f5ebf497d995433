// Types only: the Resource Graph SDK loads on the first Defender query (scanner: defender).
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { errorMessage, type Logger, PlatformError } from "@platform/core";
import { type Cvss, type Finding, mergeFindings, normalizeSeverity } from "./finding.ts";

/** Defender for Containers' assessment keys for registry images (Learn: "Container vulnerability assessments REST API"). */
export const DEFENDER_ASSESSMENTS = {
  /** Azure registry images, powered by Microsoft Defender Vulnerability Management. */
  mdvm: "c0b7cfc6-3172-465a-b378-53c7ff2cc0d5",
  /** The retired Qualys-powered recommendation (rows still exist in older tenants). */
  qualys: "dbd0cb49-b563-45e7-9724-889e799fa648",
} as const;

/** The one Resource Graph call we make (the SDK client satisfies it; tests may pass their own). */
export interface ResourceGraphQuery {
  resources(query: {
    query: string;
    subscriptions?: string[];
    options?: { skipToken?: string; top?: number };
  }): Promise<{ data: unknown; skipToken?: string; totalRecords?: number }>;
}

export interface DefenderScanInput {
  /** sha256:<64 hex> of the image manifest Defender scanned. */
  digest: string;
  /** Subscriptions to search (the registry's). */
  subscriptions: string[];
}

export interface DefenderScanResult {
  findings: Finding[];
  /** Sub-assessment rows read (all pages). */
  rows: number;
  pages: number;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const SUBSCRIPTION = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const MAX_PAGES = 100;
const GHSA = /GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The KQL for one image digest's vulnerability sub-assessments. The digest is validated before it is
 * placed in the query (it is the only value interpolated), so a crafted input cannot change the query.
 */
export function defenderQuery(digest: string): string {
  if (!DIGEST.test(digest))
    throw new PlatformError("SCAN_DIGEST_INVALID", `"${digest}" is not a sha256 image digest`, {
      hint: "Pass the manifest digest the registry returned (sha256:<64 hex>).",
    });
  const keys = Object.values(DEFENDER_ASSESSMENTS)
    .map((k) => `"${k}"`)
    .join(", ");
  return [
    "securityresources",
    '| where type == "microsoft.security/assessments/subassessments"',
    '| extend assessmentKey = extract(@"(?i)providers/Microsoft.Security/assessments/([^/]*)", 1, id)',
    `| where assessmentKey in~ (${keys})`,
    "| extend imageDigest = tostring(coalesce(properties.additionalData.artifactDetails.digest, properties.additionalData.imageDigest))",
    `| where imageDigest == "${digest}"`,
    "| project id, name, type, properties",
    "| order by id asc",
  ].join("\n");
}

function cvssOf(additional: Obj): Cvss | undefined {
  const details = obj(additional.vulnerabilityDetails);
  const table = obj(details.cvss ?? additional.cvss);
  for (const [version, key] of [
    ["3", "3.0"],
    ["2", "2.0"],
  ] as const) {
    const c = obj(table[key]);
    if (typeof c.base === "number")
      return { score: c.base, vector: str(c.cvssVectorString), source: "defender", version };
  }
  if (typeof additional.cvssV30Score === "number")
    return { score: additional.cvssV30Score, source: "defender", version: "3" };
  return undefined;
}

/** One Resource Graph sub-assessment row as a finding; undefined for healthy/not-applicable rows. */
export function parseSubAssessment(row: unknown): Finding | undefined {
  const props = obj(obj(row).properties);
  const status = obj(props.status);
  if (status.code === "Healthy" || status.code === "NotApplicable") return undefined;
  const additional = obj(props.additionalData);
  const type = str(additional.assessedResourceType);
  if (type === "AzureContainerRegistryVulnerability") {
    const details = obj(additional.vulnerabilityDetails);
    const software = obj(additional.softwareDetails);
    const artifact = obj(additional.artifactDetails);
    const os = obj(software.osDetails);
    const id = str(props.id) ?? str(details.cveId);
    const pkg = str(software.packageName);
    if (!id || !pkg) return undefined;
    const refs = Array.isArray(details.references) ? details.references.map((r) => str(obj(r).link)) : [];
    const aliases = [
      ...new Set(refs.flatMap((l) => (l ? [GHSA.exec(l)?.[0]] : [])).filter((a): a is string => !!a)),
    ];
    const category = str(software.category);
    const where =
      category === "OS"
        ? `${str(os.osVersion) ?? "os"} packages`
        : `${str(software.language) ?? "language"} packages`;
    return {
      id,
      aliases: aliases.filter((a) => a !== id),
      package: pkg,
      installedVersion: str(software.version) ?? "",
      fixedVersion: str(software.fixedVersion),
      severity: normalizeSeverity(details.severity ?? status.severity),
      cvss: cvssOf(additional),
      fixable: software.fixStatus === "FixAvailable",
      status: str(software.fixStatus),
      targets: [`${str(artifact.repositoryName) ?? "image"} (${where})`],
      class: category === "OS" ? "os" : category === "Language" ? "lang" : "other",
      type: category === "OS" ? str(os.osVersion) : str(software.language),
      source: "defender",
      title: str(props.displayName),
      url: refs.find((l) => l?.includes("nvd.nist.gov")) ?? refs.find((l) => !!l),
    };
  }
  if (type === "ContainerRegistryVulnerability") {
    // The Qualys-era shape (subAssessments swagger 2019-01-01-preview): CVEs as titled links, no package.
    const cves = (Array.isArray(additional.cve) ? additional.cve : [])
      .map((c) => ({ title: str(obj(c).title), link: str(obj(c).link) }))
      .filter((c) => c.title);
    const id = cves[0]?.title ?? str(props.id);
    if (!id) return undefined;
    return {
      id,
      aliases: cves.slice(1).map((c) => c.title!),
      package: str(props.displayName) ?? id,
      installedVersion: "",
      severity: normalizeSeverity(status.severity),
      cvss: cvssOf(additional),
      fixable: additional.patchable === true,
      targets: [str(additional.repositoryName) ?? "image"],
      class: "other",
      source: "defender",
      title: str(props.displayName),
      url: cves[0]?.link,
    };
  }
  return undefined;
}

function fromSdkError(err: unknown, subscriptions: string[]): PlatformError {
  const status = (err as { statusCode?: number }).statusCode;
  const code = (err as { code?: string }).code;
  if (status === 401 || status === 403)
    return new PlatformError(
      "SCAN_DEFENDER_FORBIDDEN",
      `Resource Graph refused the query (${status}${code ? ` ${code}` : ""}) for subscription(s) ${subscriptions.join(", ")}`,
      {
        category: "environment",
        hint: "Grant the workflow's identity the Reader role (or Security Reader) on the registry's subscription.",
        cause: err,
      },
    );
  return new PlatformError(
    "SCAN_DEFENDER_QUERY_FAILED",
    `Resource Graph query failed${status ? ` (HTTP ${status}${code ? ` ${code}` : ""})` : ""}: ${errorMessage(err)}`,
    {
      category: "environment",
      hint: "Retry later; if it persists, check that the runner can reach management.azure.com.",
      cause: err,
    },
  );
}

/** Defender's results are read per subscription: at least one, each a GUID (checked before anything is built). */
export function checkDefenderSubscriptions(subscriptions: string[]): void {
  if (subscriptions.length === 0 || subscriptions.some((s) => !SUBSCRIPTION.test(s)))
    throw new PlatformError(
      "SCAN_SUBSCRIPTION_INVALID",
      `Defender needs the registry's subscription ID(s), got "${subscriptions.join(", ")}"`,
      {
        input: "subscription",
        hint: "Set AZURE_SUBSCRIPTION_ID (or the subscription input) to the registry's subscription GUID.",
      },
    );
}

/**
 * Reads Microsoft Defender for Containers' findings for one image digest from Azure Resource Graph
 * (security sub-assessments), following `$skipToken` pages. No rows means Defender has not scanned the
 * digest (yet): that is an error, never a pass, so an unscanned image is not promoted.
 */
export async function queryDefenderFindings(
  input: DefenderScanInput,
  deps: { graph: ResourceGraphQuery; log: Logger },
): Promise<DefenderScanResult> {
  const query = defenderQuery(input.digest);
  checkDefenderSubscriptions(input.subscriptions);
  const findings: Finding[] = [];
  let skipToken: string | undefined;
  let rows = 0;
  let pages = 0;
  do {
    let page: Awaited<ReturnType<ResourceGraphQuery["resources"]>>;
    try {
      page = await deps.graph.resources({
        query,
        subscriptions: input.subscriptions,
        options: { top: 1000, ...(skipToken ? { skipToken } : {}) },
      });
    } catch (err) {
      throw fromSdkError(err, input.subscriptions);
    }
    pages++;
    const data = Array.isArray(page.data) ? page.data : [];
    rows += data.length;
    for (const row of data) {
      const f = parseSubAssessment(row);
      if (f) findings.push(f);
    }
    skipToken = page.skipToken;
    deps.log.debug(`Resource Graph page ${pages}: ${data.length} row(s)${skipToken ? ", more" : ""}`);
  } while (skipToken && pages < MAX_PAGES);
  if (rows === 0)
    throw new PlatformError(
      "SCAN_NOT_SCANNED",
      `Defender for Containers has no results for ${input.digest} yet`,
      {
        category: "environment",
        hint: "Defender scans images within minutes of a push to ACR; re-run the job later, or use scanner: trivy. An unscanned image is never promoted.",
      },
    );
  return { findings: mergeFindings(findings), rows, pages };
}

/** The SDK Resource Graph client with our credential (endpoint overridable for sovereign clouds and tests). */
export function resourceGraphClient(
  credential: ConstructorParameters<typeof ResourceGraphClient>[0],
  opts: { endpoint?: string; ca?: string } = {},
): ResourceGraphQuery {
  const endpoint = opts.endpoint?.replace(/\/+$/, "");
  let client: Promise<ResourceGraphQuery> | undefined;
  return {
    resources: async (query) => {
      client ??= import("@azure/arm-resourcegraph").then(
        ({ ResourceGraphClient }) =>
          new ResourceGraphClient(credential, {
            // A sovereign cloud's Resource Manager is also the token audience.
            ...(endpoint ? { endpoint, credentials: { scopes: [`${endpoint}/.default`] } } : {}),
            ...(opts.ca ? { tlsOptions: { ca: opts.ca } } : {}),
          }),
      );
      return (await client).resources(query);
    },
  };
}
