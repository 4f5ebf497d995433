import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { type Logger, PlatformError } from "@platform/core";
import { isLoopbackRegistry, parseReference } from "@platform/oci";
import { checkDefenderSubscriptions, queryDefenderFindings, type ResourceGraphQuery } from "../defender.ts";
import type { Finding } from "../finding.ts";
import { readInputFile } from "../read.ts";
import { type ParsedReport, parseTrivyReport } from "../trivy.ts";
import { type Exec, tail } from "./exec.ts";

export type Scanner = "trivy" | "defender" | "none";

export interface ScanOutcome {
  findings: Finding[];
  /** What produced them: `trivy` (ran), `trivy report <file>`, `defender`. */
  source: string;
}

function reportDigests(r: ParsedReport): string[] {
  const refs = [...r.artifact.repoDigests, ...(r.artifact.name ? [r.artifact.name] : [])];
  return [...new Set(refs.flatMap((s) => /@(sha256:[a-f0-9]{64})/.exec(s)?.[1] ?? []))];
}

/** How an unreadable `scan-report` is reported. */
export const SCAN_REPORT_FILE = {
  code: "SCAN_REPORT_UNREADABLE",
  label: "scan report",
  input: "scan-report",
  hint: "Check the `scan-report` path (relative to the workspace) and that the scan step wrote it.",
};

/** Reads a Trivy report file and checks it describes this digest (when it names one). */
export async function readTrivyReport(
  path: string,
  display: string,
  digest: string,
  log: Logger,
  opts: { allowUnbound?: boolean } = {},
): Promise<ParsedReport> {
  return checkTrivyReport(await readInputFile(path, display, SCAN_REPORT_FILE), display, digest, log, opts);
}

/**
 * Parses a Trivy report's text and checks it describes this digest; a report naming no digest is refused
 * unless `allowUnbound` (allow-unbound-report: true) says to take it on trust.
 */
function checkTrivyReport(
  text: string,
  display: string,
  digest: string,
  log: Logger,
  opts: { allowUnbound?: boolean } = {},
): ParsedReport {
  const report = parseTrivyReport(text, display);
  const named = reportDigests(report);
  if (named.length > 0 && !named.includes(digest))
    throw new PlatformError(
      "SCAN_REPORT_DIGEST_MISMATCH",
      `scan report ${display} is for ${named.join(", ")}, not the pushed image ${digest}`,
      {
        input: "scan-report",
        hint: "Scan the image by the digest this step pushed (output `image-ref`), or let the action run Trivy.",
      },
    );
  if (named.length === 0) {
    if (!opts.allowUnbound) {
      throw new PlatformError(
        "SCAN_REPORT_UNBOUND",
        `scan report ${display} names no image digest, so nothing ties it to the pushed image ${digest}`,
        {
          input: "scan-report",
          hint: "Scan the image by digest (trivy image <repo>@sha256:…, which records Metadata.RepoDigests), let the action run Trivy, or set allow-unbound-report: true to trust the report as it is.",
        },
      );
    }
    log.warn(
      `scan report ${display} names no image digest; allow-unbound-report: trusting it is for ${digest}`,
    );
  }
  return report;
}

/** Runs `trivy image --format json` on the pushed image (by digest). */
export async function runTrivy(
  imageRef: string,
  digest: string,
  layoutDir: string | undefined,
  deps: { exec: Exec; tempDir: string; env: NodeJS.ProcessEnv; log: Logger },
): Promise<ParsedReport> {
  const out = join(await mkdtemp(join(deps.tempDir, "trivy-")), "report.json");
  // An OCI layout is scanned in place (--input); a registry image by digest (plain HTTP only on loopback).
  const target = layoutDir
    ? ["--input", layoutDir]
    : [...(isLoopbackRegistry(parseReference(imageRef).registry) ? ["--insecure"] : []), imageRef];
  deps.log.info(`trivy image ${imageRef}`);
  const r = await deps.exec(
    "trivy",
    ["image", "--format", "json", "--output", out, "--quiet", "--scanners", "vuln", ...target],
    { env: deps.env },
  );
  if (r.code !== 0)
    throw new PlatformError("SCAN_TRIVY_FAILED", `trivy exited ${r.code}:\n${tail(r.stderr)}`, {
      category: "environment",
      hint: "Check that Trivy can pull the image (registry login) and download its vulnerability DB.",
    });
  return readTrivyReport(out, "trivy output", digest, deps.log);
}

/** Whether trivy is on PATH. */
async function trivyAvailable(exec: Exec, env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await exec("trivy", ["--version"], { env, timeoutMs: 15_000 })).code === 0;
}

/** How the image is to be scanned. */
export interface ScanSetup {
  scanner: Scanner;
  /** Absolute path of an existing report, and how to show it. */
  scanReport?: { path: string; display: string };
  /** Accept a report that names no digest (allow-unbound-report); otherwise it is an error. */
  allowUnboundReport?: boolean;
  subscriptions: string[];
}

/** The pushed image to scan. */
export interface ScanTarget {
  imageRef: string;
  digest: string;
  /** The image's OCI layout when the target is a layout (Trivy reads it with --input). */
  layoutDir?: string;
}

export type ScanInput = ScanSetup & ScanTarget;

type ScanDeps = {
  exec: Exec;
  tempDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  graph?: () => ResourceGraphQuery;
};

/**
 * Everything the scan needs that can be checked before an image exists — Defender's sign-in and
 * subscriptions, a readable report, Trivy on PATH — checked once; returns the scan of the pushed image
 * (`none` scans nothing and gives undefined).
 */
export async function prepareScan(
  setup: ScanSetup,
  deps: ScanDeps,
): Promise<(target: ScanTarget) => Promise<ScanOutcome | undefined>> {
  if (setup.scanner === "none") return async () => undefined;
  if (setup.scanner === "defender") {
    checkDefenderSubscriptions(setup.subscriptions);
    const graph = deps.graph;
    if (!graph)
      throw new PlatformError("SCAN_DEFENDER_UNAVAILABLE", "scanner: defender needs Azure sign-in", {
        input: "scanner",
        category: "environment",
        hint: "Give the job `permissions: id-token: write` with AZURE_CLIENT_ID and AZURE_TENANT_ID, or use scanner: trivy.",
      });
    return async (target) => {
      const r = await queryDefenderFindings(
        { digest: target.digest, subscriptions: setup.subscriptions },
        { graph: graph(), log: deps.log },
      );
      return { findings: r.findings, source: "defender" };
    };
  }
  // An explicit report wins (read now, its digest checked against the pushed one); otherwise Trivy runs.
  const report = setup.scanReport;
  if (report) {
    const text = await readInputFile(report.path, report.display, SCAN_REPORT_FILE);
    return async (target) => {
      const r = checkTrivyReport(text, report.display, target.digest, deps.log, {
        allowUnbound: setup.allowUnboundReport,
      });
      return { findings: r.findings, source: `trivy report ${report.display}` };
    };
  }
  if (!(await trivyAvailable(deps.exec, deps.env))) throw trivyMissing();
  return async (target) => {
    const r = await runTrivy(target.imageRef, target.digest, target.layoutDir, deps);
    return { findings: r.findings, source: "trivy" };
  };
}

/** Finds the image's vulnerabilities with the chosen scanner; `none` returns undefined (not scanned). */
export async function scanImage(input: ScanInput, deps: ScanDeps): Promise<ScanOutcome | undefined> {
  return (await prepareScan(input, deps))(input);
}

/** Neither Trivy nor a report: what to do instead. */
function trivyMissing(): PlatformError {
  return new PlatformError("SCAN_TRIVY_MISSING", "trivy is not installed and no scan-report was given", {
    input: "scan-report",
    category: "environment",
    hint: "Install Trivy first (aquasecurity/setup-trivy), pass `scan-report`, or use scanner: defender.",
  });
}
