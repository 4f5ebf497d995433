import { PlatformError, parseYamlStream } from "@platform/core";
import { type Cvss, type Finding, mergeFindings, normalizeSeverity } from "./finding.ts";

/** What a Trivy report says about the artifact, besides its findings. */
export interface TrivyArtifact {
  name?: string;
  type?: string;
  os?: string;
  /** `Metadata.RepoDigests` (repo@sha256:…), to check the report belongs to the image. */
  repoDigests: string[];
  imageId?: string;
}

export interface ParsedReport {
  findings: Finding[];
  artifact: TrivyArtifact;
  /** Findings before duplicates across targets were merged. */
  raw: number;
  /** How many targets (Results entries: OS packages, lock files, binaries) the scan looked at. */
  targets: number;
}

// Trivy's Status values (pkg/types: unknown, not_affected, affected, fixed, under_investigation,
// will_not_fix, fix_deferred, end_of_life): only these mean no fix will be shipped.
const NO_FIX = new Set(["will_not_fix", "fix_deferred", "end_of_life", "not_affected"]);
// Vendors whose CVSS we prefer when the severity source has none, most authoritative first.
const CVSS_PREFERENCE = ["nvd", "ghsa", "redhat"];
const GHSA = /GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}/g;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function invalid(file: string, message: string, line?: number): PlatformError {
  return new PlatformError("SCAN_REPORT_INVALID", message, {
    file,
    line,
    input: "scan-report",
    hint: "Pass the JSON of `trivy image --format json` (SchemaVersion 2); other formats (table, SARIF, CycloneDX) are not scan reports.",
  });
}

/**
 * The line of a JSON syntax error. V8 names a position for some errors; for "Unexpected token" it quotes
 * the text around the token instead, which we find in the input; failing both, the YAML parser (JSON is
 * YAML 1.2) names the line.
 */
function jsonErrorLine(text: string, message: string, file: string): number | undefined {
  const pos = /position (\d+)/.exec(message);
  if (pos) return lineOf(text, Number(pos[1]));
  const quoted = /^Unexpected token '(.)', (?:\.\.\.)?"([\s\S]*?)(?:\.\.\.)?" is not valid JSON$/.exec(
    message,
  );
  const at = quoted ? text.indexOf(quoted[2]!) : -1;
  if (quoted && at >= 0) return lineOf(text, at + quoted[2]!.indexOf(quoted[1]!));
  return parseYamlStream(text, file).docs[0]?.errors[0]?.line;
}

/** The line of a character offset, for JSON syntax errors. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function pickCvss(raw: unknown, preferred: string | undefined): Cvss | undefined {
  if (!isObj(raw)) return undefined;
  const order = [...(preferred ? [preferred] : []), ...CVSS_PREFERENCE, ...Object.keys(raw).sort()];
  for (const vendor of order) {
    const c = raw[vendor];
    if (!isObj(c)) continue;
    if (typeof c.V3Score === "number")
      return { score: c.V3Score, vector: str(c.V3Vector), source: vendor, version: "3" };
    if (typeof c.V40Score === "number")
      return { score: c.V40Score, vector: str(c.V40Vector), source: vendor, version: "4" };
    if (typeof c.V2Score === "number")
      return { score: c.V2Score, vector: str(c.V2Vector), source: vendor, version: "2" };
  }
  return undefined;
}

function aliasesOf(id: string, v: Obj): string[] {
  const out = new Set<string>();
  for (const x of Array.isArray(v.VendorIDs) ? v.VendorIDs : []) if (typeof x === "string") out.add(x);
  for (const ref of Array.isArray(v.References) ? v.References : [])
    if (typeof ref === "string") for (const m of ref.matchAll(GHSA)) out.add(m[0]);
  out.delete(id);
  return [...out].sort();
}

function classOf(c: unknown): Finding["class"] {
  return c === "os-pkgs" ? "os" : c === "lang-pkgs" ? "lang" : "other";
}

/**
 * Parses a Trivy JSON report (SchemaVersion 2: `Results[].Vulnerabilities[]`) into findings; the same
 * advisory for the same package version in several targets becomes one finding listing them all.
 */
export function parseTrivyReport(text: string, file = "scan-report"): ParsedReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw invalid(file, `not JSON: ${message.split("\n")[0]}`, jsonErrorLine(text, message, file));
  }
  if (!isObj(doc)) throw invalid(file, "a Trivy report is a JSON object");
  if (doc.SchemaVersion !== 2)
    throw invalid(
      file,
      doc.SchemaVersion === undefined
        ? "no SchemaVersion: this is not a Trivy JSON report"
        : `SchemaVersion ${JSON.stringify(doc.SchemaVersion)} is not supported (expected 2)`,
    );
  const results = doc.Results ?? [];
  if (!Array.isArray(results)) throw invalid(file, "Results must be an array");
  const meta = isObj(doc.Metadata) ? doc.Metadata : {};
  const os = isObj(meta.OS) ? [str(meta.OS.Family), str(meta.OS.Name)].filter(Boolean).join(" ") : "";
  const artifact: TrivyArtifact = {
    name: str(doc.ArtifactName),
    type: str(doc.ArtifactType),
    os: os || undefined,
    repoDigests: Array.isArray(meta.RepoDigests) ? meta.RepoDigests.filter((d) => typeof d === "string") : [],
    imageId: str(meta.ImageID),
  };
  const findings: Finding[] = [];
  results.forEach((r, i) => {
    if (!isObj(r)) throw invalid(file, `Results[${i}] must be an object`);
    const target = str(r.Target) ?? artifact.name ?? "image";
    const vulns = r.Vulnerabilities ?? [];
    if (!Array.isArray(vulns)) throw invalid(file, `Results[${i}].Vulnerabilities must be an array`);
    vulns.forEach((v, j) => {
      const id = isObj(v) ? str(v.VulnerabilityID) : undefined;
      const pkg = isObj(v) ? str(v.PkgName) : undefined;
      if (!isObj(v) || !id || !pkg)
        throw invalid(file, `Results[${i}].Vulnerabilities[${j}] needs VulnerabilityID and PkgName`);
      const fixedVersion = str(v.FixedVersion);
      const status = str(v.Status);
      const pkgPath = str(v.PkgPath);
      findings.push({
        id,
        aliases: aliasesOf(id, v),
        package: pkg,
        installedVersion: str(v.InstalledVersion) ?? "",
        fixedVersion,
        severity: normalizeSeverity(v.Severity),
        cvss: pickCvss(v.CVSS, str(v.SeveritySource)),
        fixable: fixedVersion !== undefined && !(status && NO_FIX.has(status)),
        status,
        targets: [pkgPath ? `${target}: ${pkgPath}` : target],
        class: classOf(r.Class),
        type: str(r.Type),
        source: "trivy",
        title: str(v.Title),
        url: str(v.PrimaryURL),
      });
    });
  });
  return { findings: mergeFindings(findings), artifact, raw: findings.length, targets: results.length };
}
