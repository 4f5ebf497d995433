/** Severities from worst to least; `unknown` is below `low` and never fails a gate by itself. */
export const SEVERITIES = ["critical", "high", "medium", "low", "unknown"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Where a finding came from. */
export type ScannerSource = "trivy" | "defender";

/** CVSS as the scanner reported it: the score we rank by, its vector and whose assessment it is. */
export interface Cvss {
  score: number;
  vector?: string;
  /** Who scored it: nvd, ghsa, redhat, … or defender. */
  source: string;
  version: "2" | "3" | "4";
}

/** One vulnerable package in the image, whichever scanner found it. */
export interface Finding {
  /** CVE-…, GHSA-… or the scanner's own id (GMS-…, DSA-…). */
  id: string;
  /** Other ids for the same advisory (a CVE's GHSA, a GHSA's CVE, vendor ids). */
  aliases: string[];
  package: string;
  installedVersion: string;
  fixedVersion?: string;
  severity: Severity;
  cvss?: Cvss;
  /** A fixed version exists and the vendor ships it (not will_not_fix / end_of_life). */
  fixable: boolean;
  /** The scanner's status (Trivy: fixed, affected, will_not_fix, …; Defender: FixAvailable, …). */
  status?: string;
  /** Every place the package was found: OS package DB, lockfile, jar path… (duplicates merged). */
  targets: string[];
  /** os (distribution packages) or lang (language packages). */
  class: "os" | "lang" | "other";
  /** Package ecosystem: debian, alpine, npm, gomod, jar, python-pkg, … */
  type?: string;
  source: ScannerSource;
  title?: string;
  url?: string;
}

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, unknown: 0 };

/** Numeric rank: critical 4 … unknown 0. */
export function severityRank(s: Severity): number {
  return RANK[s];
}

/** Any scanner's severity word (CRITICAL, High, moderate, negligible…) as ours. */
export function normalizeSeverity(raw: unknown): Severity {
  const s = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (s === "critical") return "critical";
  if (s === "high" || s === "important") return "high";
  if (s === "medium" || s === "moderate") return "medium";
  if (s === "low" || s === "negligible" || s === "minor") return "low";
  return "unknown";
}

/** The key that makes two findings the same vulnerable package (targets are merged). */
export function findingKey(f: Pick<Finding, "id" | "package" | "installedVersion">): string {
  return `${f.id}\u0000${f.package}\u0000${f.installedVersion}`;
}

/** Merges duplicates (same advisory, package and version in several targets) keeping every target. */
export function mergeFindings(findings: Finding[]): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const f of findings) {
    const key = findingKey(f);
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...f, targets: [...f.targets], aliases: [...f.aliases] });
      continue;
    }
    for (const t of f.targets) if (!seen.targets.includes(t)) seen.targets.push(t);
    for (const a of f.aliases) if (!seen.aliases.includes(a)) seen.aliases.push(a);
    if (severityRank(f.severity) > severityRank(seen.severity)) seen.severity = f.severity;
    if ((f.cvss?.score ?? -1) > (seen.cvss?.score ?? -1)) seen.cvss = f.cvss;
    seen.fixedVersion ??= f.fixedVersion;
    seen.fixable ||= f.fixable;
    seen.title ??= f.title;
    seen.url ??= f.url;
  }
  return sortFindings([...byKey.values()]);
}

/** Worst first, then by CVSS, id and package: the order every report uses. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
      (a.package < b.package ? -1 : a.package > b.package ? 1 : 0),
  );
}
