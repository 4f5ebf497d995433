import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "@platform/core";
import { PlatformError } from "@platform/core/errors";
import type { BuildScanInput, BuildScanResult, FailOn } from "@platform/scan";
import { type Command, Option } from "commander";
import {
  type Cli,
  configExplicit,
  deprecatedAlias,
  examples,
  withAzure,
  withConfig,
  withOutput,
  withRoot,
} from "./cli.ts";
import { listOption } from "./options.ts";
import { withGateOptions } from "./scan.ts";

interface BuildScanIo {
  out: (s: string) => void;
  log: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  version: string;
}

/** The short report: verdict table, failing findings, waivers, and where the image went. */
async function report(r: BuildScanResult): Promise<string> {
  const { renderScanTable } = await import("@platform/scan");
  if (!r.pushed)
    return `built   ${r.digest} (${r.built}; --no-push: not pushed, scanned, tagged or promoted)\n`;
  const lines = [`pushed  ${r.imageRef} (${r.built})`];
  if (r.scan) {
    lines.push(`scanned ${r.scan.source}`);
    // The table's own first line repeats the image reference printed above.
    lines.push(
      renderScanTable(r.scan.gate, { imageRef: r.imageRef, scanner: r.scan.source }, 10)
        .split("\n")
        .slice(1)
        .join("\n"),
    );
  } else lines.push("not scanned (scanner: none): neither tagged nor promoted");
  const b = r.promotion?.blobs;
  const how = b ? `blobs: ${b.mounted} mounted, ${b.uploaded} copied` : "ARM importImage";
  if (r.promotedRef)
    lines.push(`promoted ${r.promotedRef} (${how}; ${r.promotion?.referrers ?? 0} referrer(s))`);
  else if (r.failure) lines.push("not promoted or tagged: the gate failed");
  if (r.tagged.length) lines.push(`tagged  ${r.tagged.join(", ")}`);
  if (r.sarifFile) lines.push(`sarif   ${r.sarifFile}`);
  return `${lines.join("\n")}\n`;
}

/** `platform build-scan`: the action's domain function from a terminal; exit 1 when the gate fails. */
export async function runBuildScan(
  input: BuildScanInput & { json: boolean },
  io: BuildScanIo,
  trusted: string[] = [],
): Promise<number> {
  const { buildScan, buildScanDeps } = await import("@platform/scan");
  const temp = await mkdtemp(join(tmpdir(), "platform-build-scan-"));
  try {
    const r = await buildScan(
      input,
      buildScanDeps({ ...io, tempDir: temp, subscriptions: input.subscriptions }),
    );
    if (input.json)
      io.out(
        `${JSON.stringify(
          {
            digest: r.digest,
            imageRef: r.imageRef,
            promotedRef: r.promotedRef,
            tagged: r.tagged,
            passed: r.scan?.gate.passed,
            counts: r.scan?.gate.counts,
            failing: r.scan?.gate.failing,
            waiversExpired: r.scan?.gate.waiversExpired,
          },
          null,
          2,
        )}\n`,
      );
    else io.out(await report(r));
    // As the action does: a promotion outside registries.trusted is allowed, and said.
    const registry = r.promotedRef && !input.promoteTo?.startsWith("oci:");
    const { isTrustedImage, parseImageRef } = await import("@platform/core");
    if (registry && trusted.length && !isTrustedImage(parseImageRef(r.promotedRef!), trusted))
      io.log.warn(`promoted to ${r.promotedRef}, which platform.yaml does not list under registries.trusted`);
    if (r.failure) io.log.error(r.failure.describe());
    return r.failure ? 1 : 0;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Registers `platform build-scan` with the action's input names as options. */
export function registerBuildScan(program: Command, io: Cli): void {
  const cmd = program
    .command("build-scan")
    .description(
      "build an image (buildx or buildah) or load one, push it by digest, scan it (Trivy report/Trivy/Defender), gate it and promote it",
    )
    .requiredOption("--image <repo>", "repository to push to (no tag), or oci:<dir> for an OCI layout")
    .option("--context <dir>", "build context", ".")
    .option("--file <path>", "Dockerfile (default <context>/Dockerfile)")
    .option("--tags <list>", "extra tags after a passing gate (comma-separated, repeatable)", listOption, [])
    .addOption(
      new Option("--builder <builder>", "image builder")
        .choices(["auto", "buildx", "buildah"])
        .default("auto"),
    )
    .option("--from <path>", "push a pre-built OCI layout directory or docker archive instead of building")
    .option("--build-arg <NAME=value>", "a build argument (repeatable)", collect, [])
    .option("--label <key=value>", "an image label (repeatable)", collect, [])
    .option("--target <stage>", "the Dockerfile stage to build")
    .option(
      "--platform <list>",
      "target platforms, e.g. linux/amd64,linux/arm64 (an index for two or more)",
      listOption,
      [],
    )
    .option(
      "--secret <id=…,env=VAR|src=FILE>",
      "a build secret read from an environment variable or a file, never from argv (repeatable)",
      collect,
      [],
    )
    .option("--cache-from <spec>", "a buildx cache spec or a repository (repeatable)", collect, [])
    .option("--cache-to <spec>", "a buildx cache spec or a repository (repeatable)", collect, [])
    .option("--no-push", "build only: nothing is pushed, scanned, tagged or promoted")
    .addOption(
      new Option("--scanner <scanner>", "vulnerability source")
        .choices(["trivy", "defender", "none"])
        .default("trivy"),
    )
    .option("--scan-report <file>", "an existing Trivy JSON report of the image")
    .option("--allow-unbound-report", "trust a scan report that names no image digest", false);
  withGateOptions(cmd)
    .option(
      "--promote-to <repo>",
      "trusted repository (or oci:<dir>) to copy the digest to when the gate passes",
    )
    .option("--sarif <file>", "write SARIF 2.1.0 here")
    .option(
      "--subscription-id <list>",
      "Defender: the registry's subscription ID(s), comma-separated (default: $AZURE_SUBSCRIPTION_ID)",
      listOption,
      [],
    );
  deprecatedAlias(cmd, "subscription", "subscription-id");
  withOutput(
    withRoot(
      withConfig(
        withAzure(cmd),
        "platform.yaml (a warning when --promote-to is not under registries.trusted)",
      ),
    ),
    "the outcome",
  );
  examples(
    cmd,
    "$ platform build-scan --image myacr.azurecr.io/quarantine/orders-api --promote-to myacr.azurecr.io/trusted/orders-api",
    "$ platform build-scan --image oci:./out --from ./image-layout --scan-report trivy.json --fail-on critical",
    "$ platform build-scan --image myacr.azurecr.io/quarantine/web --scanner defender --subscription-id $SUB -o json",
    "$ trivy image --format json myacr.azurecr.io/web@sha256:… | platform build-scan --image myacr.azurecr.io/quarantine/web --from ./layout --scan-report -",
  );
  cmd.action(async (o, c: Command) => {
    const { subscriptionsOrEnv } = await import("@platform/scan");
    const { loadConfig } = await import("@platform/core");
    const { config } = await loadConfig(resolve(o.root, o.config), { explicit: configExplicit(c) });
    const code = await runBuildScan(
      {
        context: o.context,
        file: o.file,
        image: o.image,
        tags: o.tags,
        builder: o.builder,
        from: o.from,
        options: {
          buildArgs: o.buildArg,
          labels: o.label,
          target: o.target,
          platforms: o.platform,
          secrets: await Promise.all((o.secret as string[]).map((spec) => secretValue(spec, io.env))),
          cacheFrom: o.cacheFrom,
          cacheTo: o.cacheTo,
        },
        push: o.push,
        scanner: o.scanner,
        scanReport: o.scanReport,
        allowUnboundReport: o.allowUnboundReport,
        failOn: o.failOn as FailOn,
        onlyFixed: o.onlyFixed,
        waivers: o.waivers,
        promoteTo: o.promoteTo,
        sarif: o.sarif,
        subscriptions: subscriptionsOrEnv(o.subscriptionId, io.env),
        root: resolve(o.root),
        json: o.json,
      },
      io,
      config.registries.trusted,
    );
    io.done(code);
  });
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `id=<id>,env=<VAR>` or `id=<id>,src=<file>` (buildx's spelling) → the `id=value` the build takes: a value on
 * the command line would sit in the shell history and the process list.
 */
async function secretValue(spec: string, env: NodeJS.ProcessEnv): Promise<string> {
  const fields = Object.fromEntries(spec.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const bad = (why: string) =>
    new PlatformError("BUILD_OPTION_INVALID", `--secret ${fields.id ?? "(no id)"}: ${why}`, {
      input: "secret",
      hint: "Pass --secret id=<id>,env=<VAR> or --secret id=<id>,src=<file>.",
    });
  if (!fields.id) throw bad("no id=");
  if (fields.env) {
    const value = env[fields.env];
    if (value === undefined) throw bad(`environment variable ${fields.env} is not set`);
    return `${fields.id}=${value}`;
  }
  if (fields.src)
    return `${fields.id}=${await readFile(resolve(fields.src), "utf8").catch(() => Promise.reject(bad(`cannot read ${fields.src}`)))}`;
  throw bad("neither env= nor src=");
}

/** A POSIX tar archive holding one small file, so the demo can make an image without a builder. */
function tinyTar(name: string, content: string): Uint8Array {
  const data = new TextEncoder().encode(content);
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
  body.set(data);
  const out = new Uint8Array(512 + body.length + 1024);
  out.set(header);
  out.set(body, 512);
  return out;
}

/** Writes a one-layer image (a file on scratch) into a new OCI layout. */
async function tinyImage(dir: string): Promise<void> {
  const { describeBytes, encodeJson, MediaType, OciLayout } = await import("@platform/oci");
  const layout = await OciLayout.create(dir);
  const layer = tinyTar("srv/orders-api/VERSION", "orders-api 1.4.2\n");
  await layout.writeBlob(layer);
  const config = encodeJson({
    architecture: "amd64",
    os: "linux",
    config: { Entrypoint: ["/srv/orders-api/run"] },
    rootfs: { type: "layers", diff_ids: [describeBytes(layer, MediaType.ociLayer).digest] },
  });
  await layout.writeBlob(config);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: describeBytes(config, MediaType.ociConfig),
    layers: [describeBytes(layer, MediaType.ociLayer)],
  });
  await layout.addManifest(manifest, MediaType.ociManifest, "1.4.2");
}

/**
 * The demo's build-scan step: a tiny generated image is pushed by digest into an OCI layout (or the registry
 * in PLATFORM_DEMO_REGISTRY), the bundled Trivy report is gated with the team's waivers, and the digest is
 * promoted from quarantine to trusted.
 */
export async function demoBuildScan(example: string, io: BuildScanIo): Promise<void> {
  const { buildScan, buildScanDeps } = await import("@platform/scan");
  const temp = await mkdtemp(join(tmpdir(), "platform-build-scan-demo-"));
  try {
    await tinyImage(join(temp, "built"));
    const registry = io.env.PLATFORM_DEMO_REGISTRY;
    const where = (repo: string) =>
      registry ? `${registry}/${repo}` : `oci:${join(temp, repo.replace("/", "-"))}`;
    io.out(
      `\nbuild-scan: push by digest, gate the bundled Trivy report (fail-on high, only fixed, waivers), promote:\n`,
    );
    const r = await buildScan(
      {
        context: ".",
        image: where("quarantine/orders-api"),
        tags: [],
        builder: "auto",
        from: join(temp, "built"),
        scanner: "trivy",
        scanReport: "scan/trivy-orders-api.json",
        // The example's bundled report names no digest (it describes the demo image, built just now).
        allowUnboundReport: true,
        failOn: "high",
        onlyFixed: true,
        waivers: "scan/waivers.yaml",
        promoteTo: where("trusted/orders-api"),
        subscriptions: [],
        root: example,
      },
      buildScanDeps({ ...io, log: quiet(io.log), tempDir: temp, subscriptions: [] }),
    );
    io.out((await report(r)).replaceAll(temp, "<tmp>"));
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The demo shows the result, not every push line. */
function quiet(log: Logger): Logger {
  return { ...log, info: () => {}, warn: () => {} };
}
