import { resolve } from "node:path";
import type { FailOn, ScanGateResult } from "@platform/scan";
import { type Command, Option } from "commander";
import { type Cli, examples, withOutput, withRoot } from "./cli.ts";

async function report(r: ScanGateResult): Promise<string> {
  const { renderScanTable } = await import("@platform/scan");
  const lines = [
    `report  ${r.report}`,
    renderScanTable(r.gate, { imageRef: r.subject, scanner: "trivy report" }, 10),
  ];
  if (r.sarifFile) lines.push(`sarif   ${r.sarifFile}`);
  return `${lines.join("\n")}\n`;
}

/** The gate's options, shared with build-scan: `--fail-on`, `--only-fixed`, `--waivers`. */
export function withGateOptions<C extends Command>(cmd: C): C {
  return cmd
    .addOption(
      new Option("--fail-on <severity>", "fail at or above this severity")
        .choices(["critical", "high", "medium", "low"])
        .default("high"),
    )
    .option("--only-fixed", "only findings with a fix can fail the gate", false)
    .option("--waivers <file>", "waivers YAML (id, package, reason, owner, expires)") as C;
}

/** Registers `platform scan gate`: gate a Trivy JSON report made elsewhere (no build, no push). */
export function registerScan(program: Command, io: Cli): void {
  const scan = program.command("scan").description("vulnerability reports: gate a scan made elsewhere");
  const gate = scan
    .command("gate")
    .description(
      "gate a Trivy JSON report on severity with owned, expiring waivers, without building or pushing an image",
    )
    .requiredOption("--report <file>", "Trivy JSON report (trivy image --format json)")
    .option("--image <ref>", "the image the report must describe, by digest (repo@sha256:…)")
    .option("--allow-unbound-report", "with --image: trust a report that names no image digest", false);
  withGateOptions(gate).option("--sarif <file>", "write SARIF 2.1.0 here");
  withOutput(withRoot(gate), "the outcome");
  examples(
    gate,
    "$ platform scan gate --report trivy.json --fail-on high --waivers .platform/waivers.yaml",
    "$ platform scan gate --report trivy.json --image myacr.azurecr.io/app@sha256:… --json  # the report must describe that digest",
  );
  gate.action(async (o) => {
    const { scanGate } = await import("@platform/scan");
    const r = await scanGate(
      {
        report: o.report,
        image: o.image,
        allowUnboundReport: o.allowUnboundReport,
        failOn: o.failOn as FailOn,
        onlyFixed: o.onlyFixed,
        waivers: o.waivers,
        sarif: o.sarif,
        root: resolve(io.cwd, o.root ?? "."),
      },
      { log: io.log, today: new Date(), version: io.version },
    );
    if (o.json)
      io.out(
        `${JSON.stringify(
          {
            subject: r.subject,
            report: r.report,
            passed: r.gate.passed,
            counts: r.gate.counts,
            failing: r.gate.failing,
            waived: r.gate.waived,
            waiversExpired: r.gate.waiversExpired,
            ...(r.sarifFile ? { sarifFile: r.sarifFile } : {}),
          },
          null,
          2,
        )}\n`,
      );
    else io.out(await report(r));
    if (r.failure) io.log.error(r.failure.describe());
    io.done(r.failure ? 1 : 0);
  });
}
