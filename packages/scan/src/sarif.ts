import { sarifLog } from "@platform/core";
import type { Finding, Severity } from "./finding.ts";
import type { GateResult } from "./gate.ts";

export interface SarifOptions {
  /** Our version, stamped as the driver's semanticVersion. */
  version: string;
  /** The scanned image (repo@digest): every result's logical location. */
  imageRef: string;
  /** Workspace-relative Dockerfile the alerts attach to in code scanning (GitHub needs a file). */
  artifactUri?: string;
}

// GitHub code scanning ranks security alerts by `security-severity` (a CVSS-like 0–10 string).
const SEVERITY_SCORE: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "2.0",
  unknown: "0.0",
};

const level = (s: Severity): "error" | "warning" | "note" =>
  s === "critical" || s === "high" ? "error" : s === "medium" ? "warning" : "note";

const fixText = (f: Finding): string =>
  f.fixedVersion
    ? `Upgrade ${f.package} from ${f.installedVersion} to ${f.fixedVersion} or later (rebuild on an updated base image for OS packages).`
    : `No fixed version of ${f.package} is available yet${f.status ? ` (status: ${f.status})` : ""}; consider a different base image or package, or waive it with an owner and expiry.`;

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per advisory id (help says what to upgrade to), one
 * result per vulnerable package, located at the Dockerfile and, logically, at image/target/package;
 * waived findings carry an external suppression with the waiver's owner and expiry.
 */
export function toScanSarif(
  findings: Finding[],
  gate: GateResult,
  opts: SarifOptions,
): Record<string, unknown> {
  const waivedBy = new Map<Finding, GateResult["waiversUsed"][number]["waiver"]>();
  for (const u of gate.waiversUsed) for (const f of u.findings) waivedBy.set(f, u.waiver);
  const failing = new Set(gate.failing);
  const ruleIndex = new Map<string, number>();
  const rules: Record<string, unknown>[] = [];
  for (const f of findings) {
    if (ruleIndex.has(f.id)) continue;
    ruleIndex.set(f.id, rules.length);
    const summary = f.title ?? `${f.id} in ${f.package}`;
    rules.push({
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]+/g, ""),
      shortDescription: { text: summary },
      fullDescription: { text: `${summary}${f.aliases.length ? ` (also ${f.aliases.join(", ")})` : ""}` },
      ...(f.url ? { helpUri: f.url } : {}),
      help: {
        text: fixText(f),
        markdown: `| package | installed | fixed |\n|---|---|---|\n| ${f.package} | ${f.installedVersion} | ${f.fixedVersion ?? "no fix yet"} |\n\n${fixText(f)}`,
      },
      defaultConfiguration: { level: level(f.severity) },
      properties: {
        tags: ["security", "vulnerability", f.severity, ...(f.type ? [f.type] : [])],
        "security-severity": f.cvss ? f.cvss.score.toFixed(1) : SEVERITY_SCORE[f.severity],
        precision: "very-high",
      },
    });
  }
  const uri = (opts.artifactUri ?? "Dockerfile").split("\\").join("/");
  return sarifLog(
    { name: "platform-build-scan", version: opts.version },
    rules,
    findings.map((f) => {
      const waiver = waivedBy.get(f);
      return {
        ruleId: f.id,
        ruleIndex: ruleIndex.get(f.id),
        level: level(f.severity),
        message: {
          text: `${f.package} ${f.installedVersion} is vulnerable to ${f.id} (${f.severity}${f.cvss ? `, CVSS ${f.cvss.score}` : ""}); ${f.fixedVersion ? `fixed in ${f.fixedVersion}` : "no fix yet"}. Found in ${f.targets.join("; ")} of ${opts.imageRef}.${failing.has(f) ? " This fails the gate." : ""}`,
        },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
            logicalLocations: f.targets.map((t) => ({
              name: `${f.package}@${f.installedVersion}`,
              fullyQualifiedName: `${opts.imageRef}/${t}/${f.package}`,
              kind: "module",
            })),
          },
        ],
        partialFingerprints: { platformVulnerability: `${f.id}|${f.package}|${f.installedVersion}` },
        ...(waiver
          ? {
              suppressions: [
                {
                  kind: "external",
                  justification: `${waiver.reason} (owner ${waiver.owner}, expires ${waiver.expires}, ${waiver.file}:${waiver.line})`,
                },
              ],
            }
          : {}),
      };
    }),
  );
}
