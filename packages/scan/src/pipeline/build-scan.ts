import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { IMAGE_GRAMMAR, type Logger, PlatformError, writeFileAtomic } from "@platform/core";
import {
  type CopyResult,
  copyImage,
  formatReference,
  OciLayout,
  parseReference,
  promoteAcrImage,
  type Reference,
  type RegistryClient,
} from "@platform/oci";
import type { ResourceGraphQuery } from "../defender.ts";
import type { Finding } from "../finding.ts";
import { evaluateGate, type FailOn, type GateResult } from "../gate.ts";
import { gateFailure } from "../report.ts";
import { toScanSarif } from "../sarif.ts";
import { loadScanWaivers } from "../waivers.ts";
import type { AcrPromotion } from "./acr.ts";
import { type Builder, type BuildOptions, type BuiltImage, buildImage } from "./build.ts";
import type { Exec } from "./exec.ts";
import { prepareScan, type Scanner } from "./scanners.ts";

/** The build-scan inputs (DESIGN.md's action table), with paths relative to `root`. */
export interface BuildScanInput {
  context: string;
  file?: string;
  /** Repository to push to, without tag or digest (the quarantine repository). */
  image: string;
  tags: string[];
  builder: Builder;
  /** A pre-built image (OCI layout directory or docker archive) instead of building. */
  from?: string;
  /** build-push-action's build options. */
  options?: BuildOptions;
  /** false: build only (a pull request's check), nothing pushed, scanned, tagged or promoted. Default true. */
  push?: boolean;
  scanner: Scanner;
  scanReport?: string;
  /** Trust a scan-report that names no image digest (default false: such a report is an error). */
  allowUnboundReport?: boolean;
  failOn: FailOn;
  onlyFixed: boolean;
  waivers?: string;
  /** Trusted repository to copy the image to when the gate passes. */
  promoteTo?: string;
  sarif?: string;
  /** Subscriptions Defender results are read from (the registry's). */
  subscriptions: string[];
  /** Workspace root the paths are relative to. */
  root: string;
}

export interface BuildScanDeps {
  client: RegistryClient;
  exec: Exec;
  log: Logger;
  tempDir: string;
  env: NodeJS.ProcessEnv;
  today: Date;
  version: string;
  /** Resource Graph (created on demand: only `scanner: defender` needs Azure). */
  graph?: () => ResourceGraphQuery;
  /** ACR → ACR promotion through ARM importImage (other promotions copy through the data plane). */
  acr?: AcrPromotion;
}

export interface BuildScanResult {
  digest: string;
  /** The built manifest's (or index's) descriptor. */
  descriptor: { mediaType: string; digest: string; size: number };
  /** False when push: false built it only (imageRef is then empty). */
  pushed: boolean;
  /** repo@sha256:… in the quarantine repository. */
  imageRef: string;
  built: BuiltImage["via"];
  /** The Dockerfile, workspace-relative with `/`: where SARIF results and annotations attach. */
  dockerfile: string;
  push: CopyResult["blobs"];
  /** Undefined when scanner is none. */
  scan?: { source: string; findings: Finding[]; gate: GateResult };
  sarifFile?: string;
  /** Tags set in the quarantine repository (only after a passing gate). */
  tagged: string[];
  promotedRef?: string;
  /** How the digest got to the trusted repository: copied (blobs mounted within a registry) or ARM importImage. */
  promotion?: { via: "copy" | "importImage"; blobs?: CopyResult["blobs"]; referrers: number };
  /** The gate verdict as an error (the caller decides how to fail); undefined when it passed. */
  failure?: PlatformError;
}

/** Where images go: a registry repository, or (`oci:<dir>`) an OCI image layout directory. */
export interface Target {
  /** For copyImage: the repository reference, or `{ layout }`. */
  endpoint: string | { layout: string };
  /** `registry/repo` or `oci:<dir>` as the user wrote it. */
  name: string;
  /** The registry host (undefined for a layout). */
  registry?: string;
  /** The image by digest in this target. */
  at(digest: string): string;
  /** copyImage source for the image by digest. */
  source(digest: string): string | { layout: string; reference: string };
}

/** Parses `image`/`promote-to`: `oci:<dir>` (relative to root) or a repository without tag or digest. */
export function targetInput(value: string, input: string, root: string): Target {
  if (value.startsWith("oci:")) {
    const dir = resolve(root, value.slice(4));
    return {
      endpoint: { layout: dir },
      name: value,
      at: (digest) => `${value}@${digest}`,
      source: (digest) => ({ layout: dir, reference: digest }),
    };
  }
  const ref = repositoryInput(value, input);
  const repo = formatReference({ registry: ref.registry, repository: ref.repository });
  const at = (digest: string) =>
    formatReference({ registry: ref.registry, repository: ref.repository, digest });
  return { endpoint: repo, name: repo, registry: ref.registry, at, source: at };
}

/** A repository reference without tag or digest; errors name the input. */
export function repositoryInput(value: string, input: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(value);
  } catch (err) {
    if (err instanceof PlatformError)
      throw new PlatformError(err.code, err.message, {
        input,
        hint: err.hint ?? `Set \`${input}\` to registry/repository.`,
        cause: err,
      });
    throw err;
  }
  if (ref.tag || ref.digest)
    throw new PlatformError(
      "INPUT_INVALID",
      `${input} "${value}" must be a repository without a tag or digest`,
      {
        input,
        hint: `Use e.g. myacr.azurecr.io/quarantine/app; tags go in \`tags\`, the digest is the output.`,
      },
    );
  return ref;
}

/** Checks every input before anything is built or pushed. */
function validate(input: BuildScanInput, root: string): { image: Target; promoteTo?: Target } {
  const image = targetInput(input.image, "image", root);
  const promoteTo = input.promoteTo ? targetInput(input.promoteTo, "promote-to", root) : undefined;
  const bad = input.tags.find((t) => !IMAGE_GRAMMAR.tag.test(t));
  if (bad)
    throw new PlatformError("INPUT_INVALID", `tag "${bad}" is not a valid tag`, {
      input: "tags",
      hint: "Tags are 1–128 of [A-Za-z0-9_.-], not starting with . or -.",
    });
  if (input.scanner === "none" && (input.tags.length > 0 || promoteTo))
    throw new PlatformError("INPUT_INVALID", "an unscanned image is never tagged or promoted", {
      input: "scanner",
      hint: "Set scanner: trivy (or defender) to use tags or promote-to, or drop them.",
    });
  if (input.push === false && (input.tags.length > 0 || promoteTo))
    throw new PlatformError(
      "INPUT_INVALID",
      "push: false builds only, so nothing can be tagged or promoted",
      {
        input: "push",
        hint: "Drop tags and promote-to, or push the image (push: true).",
      },
    );
  if (promoteTo && promoteTo.name === image.name)
    throw new PlatformError("INPUT_INVALID", "promote-to is the same repository as image", {
      input: "promote-to",
      hint: "Push to a quarantine repository and promote to the trusted one.",
    });
  return { image, promoteTo };
}

/**
 * Build (or load) → push by digest → scan → gate → tags and promotion. The image's identity is its digest;
 * tags and promotion happen only after a passing gate, so an unscanned or failing digest never leaves
 * quarantine or gets a tag. A gate failure is returned (with every report) rather than thrown.
 */
export async function buildScan(input: BuildScanInput, deps: BuildScanDeps): Promise<BuildScanResult> {
  const root = resolve(input.root);
  const { image, promoteTo } = validate(input, root);
  const at = (p: string) => resolve(root, p);
  const waivers = input.waivers ? await loadScanWaivers(at(input.waivers), input.waivers) : [];
  const scratch = await mkdtemp(join(deps.tempDir, "build-scan-"));
  try {
    // Fail before building when there is nothing to scan with (the report, if any, is read now; its digest is
    // checked after the push).
    const scan = await prepareScan(
      {
        scanner: input.scanner,
        scanReport: input.scanReport ? { path: at(input.scanReport), display: input.scanReport } : undefined,
        allowUnboundReport: input.allowUnboundReport,
        subscriptions: input.subscriptions,
      },
      { exec: deps.exec, tempDir: scratch, env: deps.env, log: deps.log, graph: deps.graph },
    );
    const built = await buildImage(
      {
        context: at(input.context),
        file: input.file ? at(input.file) : undefined,
        builder: input.builder,
        from: input.from ? at(input.from) : undefined,
        tempDir: scratch,
        env: deps.env,
        options: input.options,
      },
      deps,
    );
    const top = await (await OciLayout.open(built.layout)).resolve();
    const descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.size };
    const dockerfile = relative(root, input.file ? at(input.file) : join(at(input.context), "Dockerfile"))
      .split(sep)
      .join("/");
    if (input.push === false) {
      deps.log.warn(
        `push: false — built ${descriptor.digest} only: it is not pushed, scanned, tagged or promoted`,
      );
      return {
        digest: descriptor.digest,
        descriptor,
        pushed: false,
        imageRef: "",
        built: built.via,
        dockerfile,
        push: { uploaded: 0, mounted: 0, existed: 0, bytes: 0 },
        tagged: [],
      };
    }
    deps.log.info(`pushing ${built.via} image to ${image.name} by digest`);
    const pushed = await copyImage({ layout: built.layout }, image.endpoint, {
      client: deps.client,
      log: deps.log,
    });
    const digest = pushed.digest;
    const imageRef = image.at(digest);
    deps.log.info(`pushed ${imageRef}`);

    const scanned = await scan({
      imageRef,
      digest,
      layoutDir: typeof image.endpoint === "string" ? undefined : built.layout,
    });
    const result: BuildScanResult = {
      digest,
      descriptor,
      pushed: true,
      imageRef,
      built: built.via,
      dockerfile,
      push: pushed.blobs,
      tagged: [],
    };
    if (!scanned) {
      deps.log.warn(`scanner: none — ${imageRef} is not scanned, so it is neither tagged nor promoted`);
      return result;
    }
    const gate = evaluateGate(scanned.findings, {
      failOn: input.failOn,
      onlyFixed: input.onlyFixed,
      waivers,
      today: deps.today,
    });
    result.scan = { source: scanned.source, findings: scanned.findings, gate };
    if (input.sarif) {
      result.sarifFile = at(input.sarif);
      const sarif = toScanSarif(scanned.findings, gate, {
        version: deps.version,
        imageRef,
        artifactUri: dockerfile,
      });
      await mkdir(dirname(result.sarifFile), { recursive: true });
      await writeFileAtomic(result.sarifFile, `${JSON.stringify(sarif, null, 2)}\n`, { input: "sarif" });
    }
    result.failure = gateFailure(gate, imageRef);
    if (result.failure) return result;

    // The gate passed: promotion first (the trusted copy is what matters), then the convenience tags.
    if (promoteTo) {
      result.promotion = await promote(image, promoteTo, digest, deps);
      result.promotedRef = promoteTo.at(digest);
    }
    if (input.tags.length > 0) {
      // Everything is there already: this only writes the tags (manifest PUTs, or layout ref names).
      await copyImage(image.source(digest), image.endpoint, {
        client: deps.client,
        log: deps.log,
        referrers: false,
        tags: input.tags,
      });
      result.tagged = [...input.tags];
    }
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Copies the digest (with its referrer graph) to the trusted target: ARM importImage between two different
 * ACRs, else the data plane (blob mounts within one registry, streaming between registries or layouts).
 */
async function promote(
  image: Target,
  promoteTo: Target,
  digest: string,
  deps: BuildScanDeps,
): Promise<NonNullable<BuildScanResult["promotion"]>> {
  const [from, to] = [image.registry, promoteTo.registry];
  if (deps.acr && from && to && from !== to) {
    const [src, dst] = await Promise.all([deps.acr.lookup(from), deps.acr.lookup(to)]);
    if (src && dst) {
      const r = await promoteAcrImage({
        source: image.at(digest),
        target: promoteTo.name,
        client: deps.client,
        arm: {
          ...deps.acr.arm,
          subscriptionId: dst.subscriptionId,
          resourceGroup: dst.resourceGroup,
          registryName: dst.name,
          sourceResourceId: src.resourceId,
        },
        referrers: true,
        log: deps.log,
      });
      return { via: "importImage", referrers: r.referrers.length };
    }
  }
  const copied = await copyImage(image.source(digest), promoteTo.endpoint, {
    client: deps.client,
    log: deps.log,
    referrers: true,
  });
  if (copied.digest !== digest)
    throw new PlatformError("OCI_DIGEST_MISMATCH", `promotion copied ${copied.digest}, expected ${digest}`, {
      category: "environment",
    });
  return { via: "copy", blobs: copied.blobs, referrers: copied.referrers.length };
}
