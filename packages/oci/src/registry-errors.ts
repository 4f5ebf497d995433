// How registry answers become errors: the distribution error body, and PlatformErrors with codes and hints.
import { PlatformError } from "@platform/core";

/** The registry's error body (`{"errors":[{code,message}]}`) as one line, else the text's start. */
export async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as {
      errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
    };
    if (Array.isArray(body.errors) && body.errors.length) {
      return body.errors
        .map(
          (e) =>
            `${e.code ?? "ERROR"}: ${e.message ?? ""}${e.detail ? ` ${JSON.stringify(e.detail).slice(0, 200)}` : ""}`,
        )
        .join("; ");
    }
  } catch {}
  return text.trim().slice(0, 300);
}

/** A missing manifest, blob or repository. */
export function notFound(what: string, detail = ""): PlatformError {
  return new PlatformError("OCI_NOT_FOUND", `${what} not found${detail ? ` (${detail})` : ""}`, {
    category: "environment",
    hint: "Check the repository name, the tag or digest, and that the image was pushed to this registry.",
  });
}

/** A registry failure, coded by what the registry said (a rejected manifest, or any other error). */
export function registryError(registry: string, what: string, status: number, detail: string): PlatformError {
  const blobUnknown = /MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN/.test(detail);
  const invalid = /MANIFEST_INVALID|TAG_INVALID|DIGEST_INVALID|SIZE_INVALID/.test(detail);
  return new PlatformError(
    blobUnknown || invalid ? "OCI_MANIFEST_REJECTED" : "OCI_REGISTRY_ERROR",
    `${registry}: ${what} failed (HTTP ${status})${detail ? `: ${detail}` : ""}`,
    {
      category: "environment",
      hint: blobUnknown
        ? "Push every blob (config and layers) and every child manifest before the manifest that references them."
        : invalid
          ? "The registry rejected the content as invalid; check the manifest's media type and descriptors."
          : status === 413
            ? "The registry refused the size; manifests should stay below 4 MiB."
            : "Retry; if it persists, check the registry's status.",
    },
  );
}
