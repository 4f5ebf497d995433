import { PlatformError } from "@platform/core";
import type { ClusterSnapshot, TargetSpec } from "./types.ts";

/** [major, minor, patch] of "1.30.4" (a minor-only "1.30" has patch -1). */
export function parseVersion(v: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v.trim());
  if (!m) throw new PlatformError("AKS_VERSION_INVALID", `"${v}" is not a Kubernetes version (x.y.z)`);
  return [Number(m[1]), Number(m[2]), m[3] === undefined ? -1 : Number(m[3])];
}

/** Negative, zero or positive, like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** "1.30" of "1.30.4". */
export function minorOf(v: string): string {
  const [major, minor] = parseVersion(v);
  return `${major}.${minor}`;
}

function latest(versions: string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

/** GA patch versions the region offers for a minor, ascending. */
function patchesOf(s: ClusterSnapshot, minor: string): string[] {
  const v = s.versions.find((r) => r.minor === minor && !r.isPreview);
  return v ? [...v.patches].sort(compareVersions) : [];
}

/** Every GA version the region offers above the current one, for error messages. */
function offeredVersions(s: ClusterSnapshot): string[] {
  const fromProfile = s.upgrades.filter((u) => !u.isPreview).map((u) => u.kubernetesVersion);
  const fromRegion = s.versions.filter((r) => !r.isPreview).flatMap((r) => r.patches);
  return [...new Set([...fromProfile, ...fromRegion])]
    .filter((v) => compareVersions(v, s.kubernetesVersion) > 0)
    .sort(compareVersions);
}

/**
 * The ordered versions the control plane passes through to reach the target. AKS does not skip
 * minors, so 1.30 → 1.32 is [latest 1.31 patch, 1.32.x]. An empty path means nothing to do.
 */
export function resolveTarget(s: ClusterSnapshot, target: TargetSpec): { version: string; path: string[] } {
  const current = s.kubernetesVersion;
  const [major, minor] = parseVersion(current);
  const currentMinor = `${major}.${minor}`;
  if (target === "latest-patch") {
    const best = latest(patchesOf(s, currentMinor).filter((p) => compareVersions(p, current) > 0));
    return best ? { version: best, path: [best] } : { version: current, path: [] };
  }
  let goal: string;
  if (target === "latest-minor") {
    const minors = s.versions
      .filter((r) => !r.isPreview && r.patches.length > 0)
      .map((r) => r.minor)
      .filter((m) => compareVersions(m, currentMinor) > 0)
      .sort(compareVersions);
    const top = minors.at(-1);
    if (!top) return resolveTarget(s, "latest-patch");
    goal = latest(patchesOf(s, top))!;
  } else {
    if (!/^\d+\.\d+\.\d+$/.test(target)) {
      throw new PlatformError(
        "AKS_TARGET_INVALID",
        `target-version "${target}" is not latest-patch, latest-minor or x.y.z`,
        {
          input: "target-version",
          hint: "Use latest-patch, latest-minor or an exact version such as 1.31.2.",
        },
      );
    }
    if (compareVersions(target, current) === 0) return { version: current, path: [] };
    const offered = offeredVersions(s);
    if (compareVersions(target, current) < 0 || !offered.includes(target)) {
      throw new PlatformError(
        "AKS_TARGET_NOT_OFFERED",
        `Kubernetes ${target} is not offered for ${s.name} in ${s.location} (current ${current}); offered: ${offered.join(", ") || "none"}`,
        {
          input: "target-version",
          hint: offered.length
            ? `Pick one of the offered versions, or latest-patch / latest-minor.`
            : "The cluster is on the newest version the region offers; nothing to upgrade.",
        },
      );
    }
    goal = target;
  }
  const [, goalMinor] = parseVersion(goal);
  const path: string[] = [];
  for (let m = minor + 1; m < goalMinor; m++) {
    const hop = latest(patchesOf(s, `${major}.${m}`));
    if (!hop) {
      throw new PlatformError(
        "AKS_NO_INTERMEDIATE",
        `No GA ${major}.${m} version is offered in ${s.location}, and AKS cannot skip a minor on the way to ${goal}`,
        {
          input: "target-version",
          hint: `Choose a target in ${major}.${minor + 1}, or upgrade through a region that still offers ${major}.${m}.`,
        },
      );
    }
    path.push(hop);
  }
  path.push(goal);
  return { version: goal, path };
}
