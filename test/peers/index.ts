import { existsSync } from "node:fs";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");
export type PeerName =
  | "kustomize"
  | "helm"
  | "gator"
  | "opa"
  | "olareg"
  | "oras"
  | "notation"
  | "cosign"
  | "kube-apiserver"
  | "kyverno"
  | "actionlint"
  | "zizmor"
  | "gh"
  | SystemPeer;
/** Peers from Debian's packages (installed system-wide by .ci/run with apt-get), found on PATH. */
export type SystemPeer =
  | "skopeo"
  | "buildah"
  | "docker-registry"
  | "etcd"
  | "shellcheck"
  | "chromium"
  | "busybox"
  | "zsh"
  | "fish";
const SYSTEM_PEERS: readonly string[] = [
  "skopeo",
  "buildah",
  "docker-registry",
  "etcd",
  "shellcheck",
  "chromium",
  "busybox",
  "zsh",
  "fish",
];

/** Path of an installed peer tool, or undefined. */
export function peerPath(name: PeerName): string | undefined {
  if (SYSTEM_PEERS.includes(name)) {
    for (const dir of (process.env.PATH ?? "").split(":").concat("/usr/bin", "/usr/sbin")) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
    return undefined;
  }
  const p = join(REPO_ROOT, ".peers", "bin", name);
  return existsSync(p) ? p : undefined;
}

/**
 * The peers a suite needs. Locally a missing peer skips the suite with a visible reason; with CI=true it
 * is an error, so a CI run can never pass on skipped tests.
 */
export function requirePeers(...names: PeerName[]): {
  ok: boolean;
  reason: string;
  paths: Record<string, string>;
} {
  const missing = names.filter((n) => !peerPath(n));
  const reason = missing.length
    ? `peer tool(s) not installed: ${missing.join(", ")} — run "npm run peers" (Go peers) or "apt-get install skopeo buildah docker-registry etcd-server shellcheck chromium busybox-static zsh fish"`
    : "";
  if (missing.length && process.env.CI === "true")
    throw new Error(`${reason} (CI=true: missing peers are an error)`);
  if (missing.length) console.warn(`SKIP: ${reason}`);
  return {
    ok: missing.length === 0,
    reason,
    paths: Object.fromEntries(names.map((n) => [n, peerPath(n) ?? n])),
  };
}

/**
 * The public Gatekeeper library in the shared conformance folder (read in place, never copied): beside the
 * repository as ../shared, or where GATEKEEPER_LIBRARY points. Missing locally: skip with a visible reason;
 * missing with CI=true: an error, like a missing peer.
 */
export function gatekeeperLibrary(): { ok: boolean; path: string; reason: string } {
  const candidates = [
    process.env.GATEKEEPER_LIBRARY,
    join(REPO_ROOT, "..", "shared", "conformance", "gatekeeper-library", "library"),
    // This workplace mounts the shared folder here; a clone elsewhere still finds it.
    "/work/shared/conformance/gatekeeper-library/library",
  ].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  const ok = existsSync(path);
  const reason = ok
    ? ""
    : `the gatekeeper-library is not at ${candidates.join(" or ")} (set GATEKEEPER_LIBRARY)`;
  if (!ok && process.env.CI === "true")
    throw new Error(`${reason} (CI=true: missing conformance data is an error)`);
  if (!ok) console.warn(`SKIP: ${reason}`);
  return { ok, path, reason };
}
