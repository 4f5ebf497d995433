import { digestDetails, isTrustedImage, PlatformError, parseImageRef } from "@platform/core";
import type { ActionContext, ActionOutcome, CamelKeys } from "@platform/github";
import { loadWorkspaceConfig, withAzureSignIn } from "@platform/github";
import {
  buildScan,
  buildScanDeps,
  type GateResult,
  scanGate,
  subscriptionsOrEnv,
  writeScanSummary,
} from "@platform/scan";
import type { z } from "zod";
import type { inputs } from "./inputs.ts";
import { noImageOrReport } from "./required.ts";

declare const __PLATFORM_VERSION__: string | undefined;
const VERSION = typeof __PLATFORM_VERSION__ === "string" ? __PLATFORM_VERSION__ : "0.0.0-dev";
const MAX_ANNOTATED = 20;
const MAX_RESULT_FINDINGS = 200;

export type Inputs = CamelKeys<z.output<typeof inputs>>;

/** The action's glue: inputs → buildScan (or, with no image, the report's gate) → summary, annotations, outputs. */
export async function buildScanAction(i: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  if (!i.image) return gateReportAction(i, ctx);
  const { config } = await loadWorkspaceConfig(ctx.workspace, i.config);
  if (i.subscription.length) ctx.log.warn("the subscription input is deprecated: use subscription-id");
  const subscriptions = subscriptionsOrEnv(
    i.subscriptionId.length ? i.subscriptionId : i.subscription,
    ctx.env,
  );
  const r = await buildScan(
    {
      context: i.context ?? ".",
      file: i.file,
      image: i.image,
      tags: i.tags,
      builder: i.builder,
      from: i.from,
      options: {
        buildArgs: i.buildArgs,
        labels: i.labels,
        target: i.target,
        platforms: i.platforms,
        secrets: i.secrets,
        cacheFrom: i.cacheFrom,
        cacheTo: i.cacheTo,
      },
      push: i.push,
      scanner: i.scanner,
      scanReport: i.scanReport,
      allowUnboundReport: i.allowUnboundReport,
      failOn: i.failOn,
      onlyFixed: i.onlyFixed,
      waivers: i.waivers,
      promoteTo: i.promoteTo,
      sarif: i.sarif,
      subscriptions,
      root: ctx.workspace,
    },
    buildScanDeps({
      env: withAzureSignIn(ctx.env, i),
      log: ctx.log,
      tempDir: ctx.runnerTemp,
      version: VERSION,
      subscriptions,
    }),
  );
  if (
    r.promotedRef &&
    config.registries.trusted.length > 0 &&
    !isTrustedImage(parseImageRef(r.promotedRef), config.registries.trusted)
  )
    ctx.annotate({
      level: "warning",
      message: `promoted to ${r.promotedRef}, which platform.yaml does not list under registries.trusted`,
    });
  const gate = r.scan?.gate;
  if (gate) {
    writeScanSummary(ctx.summary, gate, {
      imageRef: r.imageRef,
      scanner: r.scan!.source,
      promotedRef: r.promotedRef,
      links: ctx.github,
    });
    annotateFailing(ctx, gate, r.dockerfile);
    for (const w of gate.waiversExpired)
      ctx.annotate({
        level: "warning",
        title: "expired waiver",
        file: w.file,
        line: w.line,
        message: `waiver for ${w.id} (owner ${w.owner}) expired on ${w.expires}; it waives nothing now — fix the finding or renew the waiver.`,
      });
  } else {
    // Pushed but not gated: the step passes, but the headline does not call an unscanned image a pass.
    ctx.summary.verdict("unchecked", "build-scan: pushed (not scanned)");
    ctx.summary.raw(
      `${digestDetails(r.imageRef)}\nscanner: none, so it was neither tagged nor promoted.\n`,
      0,
    );
  }
  return {
    outputs: {
      digest: r.digest,
      "image-ref": r.imageRef,
      findings: gate?.total ?? 0,
      "sarif-file": r.sarifFile ?? "",
      "promoted-ref": r.promotedRef ?? "",
      metadata: JSON.stringify(buildMetadata(r, i.tags)),
    },
    result: {
      digest: r.digest,
      imageRef: r.imageRef,
      built: r.built,
      push: r.push,
      scanner: r.scan?.source ?? "none",
      passed: gate ? gate.passed : undefined,
      counts: gate?.counts,
      failing: gate?.failing.slice(0, MAX_RESULT_FINDINGS).map((f) => ({
        id: f.id,
        package: f.package,
        installed: f.installedVersion,
        fixed: f.fixedVersion,
        severity: f.severity,
      })),
      waiversUsed: gate?.waiversUsed.map((u) => ({
        id: u.waiver.id,
        package: u.waiver.package,
        owner: u.waiver.owner,
        expires: u.waiver.expires,
        findings: u.findings.length,
      })),
      waiversExpired: gate?.waiversExpired.map((w) => ({
        id: w.id,
        owner: w.owner,
        expires: w.expires,
        file: w.file,
        line: w.line,
      })),
      tagged: r.tagged,
      promotedRef: r.promotedRef,
      promotion: r.promotion,
    },
    failure: r.failure,
  };
}

/** An error annotation per failing finding (the first MAX_ANNOTATED), at the file the gate judged. */
function annotateFailing(ctx: ActionContext, gate: GateResult, file: string): void {
  for (const f of gate.failing.slice(0, MAX_ANNOTATED))
    ctx.annotate({
      level: "error",
      title: f.id,
      file,
      line: 1,
      message: `${f.package} ${f.installedVersion}: ${f.id} (${f.severity})${f.fixedVersion ? `, fixed in ${f.fixedVersion}` : ", no fix yet"}${f.title ? ` — ${f.title}` : ""}`,
    });
}

/** Inputs that only mean something when the step builds or pushes (refused without `image`). */
const IMAGE_ONLY = ["tags", "from", "promoteTo"] as const;

/** No image: gate `scan-report` alone (`platform scan gate`), for teams whose build runs elsewhere. */
async function gateReportAction(i: Inputs, ctx: ActionContext): Promise<ActionOutcome> {
  if (!i.scanReport) throw noImageOrReport();
  const extra = IMAGE_ONLY.filter((k) => (Array.isArray(i[k]) ? (i[k] as unknown[]).length > 0 : !!i[k]));
  if (extra.length)
    throw new PlatformError(
      "INPUT_INVALID",
      `${extra.map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(", ")} need image: without it the step only gates scan-report`,
      {
        input: "image",
        hint: "Set image to build or push, or drop the inputs that need an image.",
      },
    );
  const r = await scanGate(
    {
      report: i.scanReport,
      failOn: i.failOn,
      onlyFixed: i.onlyFixed,
      waivers: i.waivers,
      sarif: i.sarif,
      root: ctx.workspace,
    },
    { log: ctx.log, today: new Date(), version: VERSION },
  );
  writeScanSummary(ctx.summary, r.gate, {
    imageRef: r.subject,
    scanner: `trivy report ${r.report}`,
    links: ctx.github,
  });
  annotateFailing(ctx, r.gate, r.report);
  return {
    outputs: {
      digest: "",
      "image-ref": "",
      findings: r.gate.total,
      "sarif-file": r.sarifFile ?? "",
      "promoted-ref": "",
      metadata: "{}",
    },
    result: {
      subject: r.subject,
      report: r.report,
      scanner: "trivy report",
      passed: r.gate.passed,
      counts: r.gate.counts,
      failing: r.gate.failing.slice(0, MAX_RESULT_FINDINGS).map((f) => ({
        id: f.id,
        package: f.package,
        installed: f.installedVersion,
        fixed: f.fixedVersion,
        severity: f.severity,
      })),
    },
    failure: r.failure,
  };
}

/** The `metadata` output in build-push-action's shape (buildx's metadata file), for steps written against it. */
function buildMetadata(r: Awaited<ReturnType<typeof buildScan>>, tags: string[]): Record<string, unknown> {
  const repo = r.imageRef ? r.imageRef.slice(0, r.imageRef.lastIndexOf("@")) : "";
  const names = r.pushed ? [r.imageRef, ...r.tagged.map((t) => `${repo}:${t}`)] : [];
  return {
    "containerimage.digest": r.digest,
    "containerimage.descriptor": r.descriptor,
    "image.name": names.join(","),
    ...(r.pushed ? {} : { "platform.pushed": false, "platform.tags-not-set": tags }),
  };
}
