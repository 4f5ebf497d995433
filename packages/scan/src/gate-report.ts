import { mkdir } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { checkImageReference, type Logger, PlatformError, writeFileAtomic } from "@platform/core";
import type { Finding } from "./finding.ts";
import { evaluateGate, type FailOn, type GateResult } from "./gate.ts";
import { readTrivyReport } from "./pipeline/scanners.ts";
import { readInputFile } from "./read.ts";
import { gateFailure } from "./report.ts";
import { toScanSarif } from "./sarif.ts";
import { type ParsedReport, parseTrivyReport } from "./trivy.ts";
import { loadScanWaivers } from "./waivers.ts";

/** `platform scan gate`: a Trivy JSON report made elsewhere, gated without building or pushing anything. */
export interface ScanGateInput {
  /** The Trivy JSON report (`trivy image --format json`), relative to `root`. */
  report: string;
  /** The image the report must describe (repo@sha256:…); without it the report's own artifact is the subject. */
  image?: string;
  /** With `image`: trust a report that names no digest (default: refused). */
  allowUnboundReport?: boolean;
  failOn: FailOn;
  onlyFixed: boolean;
  waivers?: string;
  sarif?: string;
  /** Workspace root the paths are relative to. */
  root: string;
}

export interface ScanGateResult {
  /** What was gated: the image, else the report's artifact (digest first), else the report file. */
  subject: string;
  /** The report as the user named it. */
  report: string;
  findings: Finding[];
  gate: GateResult;
  sarifFile?: string;
  /** The gate verdict as an error (category verdict); undefined when it passed. */
  failure?: PlatformError;
}

const REPORT_FILE = {
  code: "SCAN_REPORT_UNREADABLE",
  label: "scan report",
  input: "report",
  hint: "Check the `report` path (relative to the workspace) and that the scan step wrote it.",
};

/** The image input: a reference pinned by digest (a tag can move after the scan, so it binds nothing). */
function pinnedImage(value: string): string {
  const ref = checkImageReference(value);
  if (!ref.ok || !ref.digest)
    throw new PlatformError(
      "INPUT_INVALID",
      `image "${value}" is not ${ref.ok ? "pinned by a digest" : `a valid image reference (${ref.part}: ${ref.why})`}`,
      {
        input: "image",
        hint: "Name the scanned image by digest (e.g. myacr.azurecr.io/app@sha256:…), or leave image out to gate the report as it is.",
      },
    );
  return ref.digest;
}

/** The report's own name for what it scanned: a repo digest first, then ArtifactName. */
function artifactOf(r: ParsedReport): string | undefined {
  return r.artifact.repoDigests[0] ?? r.artifact.name;
}

/**
 * Gates a Trivy report on severity with owned, expiring waivers (the build-scan gate, without the build). A
 * report that scanned nothing (no Results) is an input error: checking nothing is not a pass.
 */
export async function scanGate(
  input: ScanGateInput,
  deps: { log: Logger; today: Date; version: string },
): Promise<ScanGateResult> {
  const at = (p: string) => resolve(input.root, p);
  const waivers = input.waivers ? await loadScanWaivers(at(input.waivers), input.waivers) : [];
  const digest = input.image ? pinnedImage(input.image) : undefined;
  const parsed = digest
    ? await readTrivyReport(at(input.report), input.report, digest, deps.log, {
        allowUnbound: input.allowUnboundReport,
      })
    : parseTrivyReport(await readInputFile(at(input.report), input.report, REPORT_FILE), input.report);
  if (parsed.targets === 0)
    throw new PlatformError(
      "SCAN_REPORT_EMPTY",
      `scan report ${input.report} scanned nothing (no Results): Trivy found no OS or language packages to check`,
      {
        input: "report",
        file: input.report,
        hint: "Check that Trivy scanned the right image (a clean image still lists its OS packages target); gating a report that looked at nothing would be a pass for nothing.",
      },
    );
  const subject = input.image ?? artifactOf(parsed) ?? input.report;
  const gate = evaluateGate(parsed.findings, {
    failOn: input.failOn,
    onlyFixed: input.onlyFixed,
    waivers,
    today: deps.today,
  });
  const result: ScanGateResult = { subject, report: input.report, findings: parsed.findings, gate };
  if (input.sarif) {
    const file = at(input.sarif);
    const sarif = toScanSarif(parsed.findings, gate, {
      version: deps.version,
      imageRef: subject,
      // Code scanning needs a repository file to attach results to: the report itself.
      artifactUri: relative(input.root, at(input.report)).split(sep).join("/"),
    });
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(sarif, null, 2)}\n`, { input: "sarif" });
    result.sarifFile = file;
  }
  const failure = gateFailure(gate, subject, "the report fails the gate");
  return failure ? { ...result, failure } : result;
}
