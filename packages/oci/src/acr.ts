// Promotion between Azure Container Registries: ARM `importImage` (server-side copy, a long-running
// operation) by digest into an untagged target repository, then the digest's referrer graph
// (signatures, SBOMs, attestations — which import does not copy) by digest through the data plane,
// and only then the tags.
// Types only: the ARM SDK loads when an import runs (most pushes never reach ARM).
import type { ContainerRegistryManagementClient, ImportImageParameters } from "@azure/arm-containerregistry";
import type { TokenCredential } from "@azure/core-auth";
import { createLogger, errorMessage, type Logger, PlatformError } from "@platform/core";
import type { RegistryClient } from "./client.ts";
import { GraphCopier, registryStore } from "./copy.ts";
import { formatReference, parseReference, type Reference } from "./reference.ts";
import type { Descriptor } from "./types.ts";

export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";

/** Where the target registry lives in ARM, and how to reach ARM. */
export interface AcrArmTarget {
  credential: TokenCredential;
  subscriptionId: string;
  resourceGroup: string;
  /** The target registry's resource name (`myacr` for myacr.azurecr.io). */
  registryName: string;
  /** ARM endpoint (sovereign clouds, tests); the public cloud by default. */
  armEndpoint?: string;
  /** Extra trusted CA (PEM) for the ARM endpoint. */
  ca?: string;
  /** Poll interval of the long-running operation (default: what ARM's Retry-After says). */
  pollIntervalMs?: number;
  /** Counts every ARM request (tests, benchmarks). */
  onRequest?: (method: string, url: string) => void;
}

export interface ImportImageOptions extends AcrArmTarget {
  /** The source registry's ARM resource ID (for ACR → ACR), or … */
  sourceResourceId?: string;
  /** … the source registry host (e.g. mcr.microsoft.com). */
  sourceRegistryUri?: string;
  /** `repo@sha256:…` (a digest is required: promotion never copies by tag). */
  sourceImage: string;
  /** Repository in the target registry; the import is manifest-only, no tag (untaggedTargetRepositories). */
  targetRepository: string;
  log?: Logger;
}

async function armClient(t: AcrArmTarget): Promise<ContainerRegistryManagementClient> {
  const { ContainerRegistryManagementClient } = await import("@azure/arm-containerregistry");
  const endpoint = (t.armEndpoint ?? PUBLIC_ARM_ENDPOINT).replace(/\/+$/, "");
  if (!URL.canParse(endpoint)) {
    throw new PlatformError("OCI_ARM_ENDPOINT_INVALID", `The ARM endpoint "${endpoint}" is not a URL`, {
      input: "arm-endpoint",
      hint: "Use the cloud's Resource Manager URL, e.g. https://management.azure.com.",
    });
  }
  const client = new ContainerRegistryManagementClient(t.credential, t.subscriptionId, {
    endpoint,
    credentials: { scopes: [`${endpoint}/.default`] },
    ...(t.ca ? { tlsOptions: { ca: t.ca } } : {}),
    retryOptions: { maxRetries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 5_000 },
  });
  if (t.onRequest) {
    client.pipeline.addPolicy({
      name: "platformRequestCounter",
      sendRequest: (req, next) => {
        t.onRequest?.(req.method, req.url);
        return next(req);
      },
    });
  }
  return client;
}

/**
 * ARM importImage by digest into an untagged repository (`mode: NoForce`), waiting for the
 * long-running operation. Needs Contributor (or a role with importImage) on the target registry and
 * pull access on the source.
 */
export async function importImage(opts: ImportImageOptions): Promise<void> {
  const log = opts.log ?? createLogger({ write() {} });
  if (!/@sha256:[a-f0-9]{64}$/.test(opts.sourceImage)) {
    throw new PlatformError(
      "OCI_IMPORT_NEEDS_DIGEST",
      `importImage source "${opts.sourceImage}" has no digest`,
      {
        hint: "Promote by digest: repo@sha256:<64 hex>.",
      },
    );
  }
  const params: ImportImageParameters = {
    source: {
      sourceImage: opts.sourceImage,
      ...(opts.sourceResourceId ? { resourceId: opts.sourceResourceId } : {}),
      ...(opts.sourceRegistryUri ? { registryUri: opts.sourceRegistryUri } : {}),
    },
    untaggedTargetRepositories: [opts.targetRepository],
    mode: "NoForce",
  };
  log.info(
    `importing ${opts.sourceImage} into ${opts.registryName}/${opts.targetRepository} (ARM importImage)`,
  );
  try {
    await (await armClient(opts)).registries.importImage(opts.resourceGroup, opts.registryName, params, {
      ...(opts.pollIntervalMs !== undefined ? { updateIntervalInMs: opts.pollIntervalMs } : {}),
    });
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    const code = (err as { code?: string }).code;
    throw new PlatformError(
      "OCI_IMPORT_FAILED",
      `ARM importImage of ${opts.sourceImage} into ${opts.registryName}/${opts.targetRepository} failed${status ? ` (HTTP ${status})` : ""}${code ? ` ${code}` : ""}: ${log.masker.mask(errorMessage(err))}`,
      {
        category: "environment",
        hint:
          status === 403 || code === "AuthorizationFailed"
            ? `Grant the identity a role with Microsoft.ContainerRegistry/registries/importImage/action (e.g. Contributor or Container Registry Data Importer and Data Reader) on ${opts.registryName}, and pull access on the source.`
            : "Check that the source digest exists and the target registry accepts imports (network rules, quota).",
        // No `cause`: the SDK's RestError carries the request with its Authorization header.
      },
    );
  }
}

export interface PromoteAcrOptions {
  /** `quarantine.azurecr.io/app@sha256:…` (digest required). */
  source: string | Reference;
  /** `prod.azurecr.io/app[:tag]`; a tag here is set last, after everything else succeeded. */
  target: string | Reference;
  /** Data-plane client (signed in to both registries, e.g. with acrCredentials) for referrers and tags. */
  client: RegistryClient;
  /** ARM details of the target registry. */
  arm: AcrArmTarget & { sourceResourceId: string };
  /** More tags to set at the end. */
  tags?: readonly string[];
  /** Copy the referrer graph (default true). */
  referrers?: boolean;
  log?: Logger;
}

export interface PromoteAcrResult {
  digest: string;
  /** `prod.azurecr.io/app@sha256:…` */
  reference: string;
  referrers: Descriptor[];
  tagged: string[];
}

/**
 * ACR → ACR promotion by digest: importImage (untagged), check the target has the digest, copy the
 * referrer graph by digest (import does not), then tag. Nothing is tagged if any step fails.
 */
export async function promoteAcrImage(opts: PromoteAcrOptions): Promise<PromoteAcrResult> {
  const log = opts.log ?? createLogger({ write() {} });
  const src =
    typeof opts.source === "string"
      ? parseReference(opts.source, { requireDigest: true, input: "image" })
      : opts.source;
  const dst =
    typeof opts.target === "string" ? parseReference(opts.target, { input: "promote-to" }) : opts.target;
  if (!src.digest) {
    throw new PlatformError("OCI_REFERENCE_INVALID", `${src} has no digest; promotion copies by digest only`);
  }
  const digest = src.digest;
  await importImage({
    ...opts.arm,
    sourceImage: `${src.repository}@${digest}`,
    targetRepository: dst.repository,
    log,
  });
  const root = await opts.client.resolve(
    formatReference({ registry: dst.registry, repository: dst.repository, digest }),
  );
  const referrers: Descriptor[] = [];
  if (opts.referrers ?? true) {
    const copier = new GraphCopier(
      registryStore(opts.client, src),
      registryStore(opts.client, dst, { destination: true }),
      4,
      log,
    );
    await copier.copyReferrers(root, referrers);
  }
  const tags = [...new Set([...(dst.tag ? [dst.tag] : []), ...(opts.tags ?? [])])];
  if (tags.length) {
    const m = await opts.client.getManifest(
      formatReference({ registry: dst.registry, repository: dst.repository, digest }),
    );
    for (const tag of tags) await opts.client.putManifest(dst, m.bytes, m.mediaType, tag);
  }
  const reference = formatReference({ registry: dst.registry, repository: dst.repository, digest });
  log.info(
    `promoted ${src.registry}/${src.repository}@${digest} → ${reference} with ${referrers.length} referrer(s)`,
  );
  return { digest, reference, referrers, tagged: tags };
}
