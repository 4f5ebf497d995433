// parse → plan: which files of a config repo change, and how, for one image in one environment. Pure over a
// RepoReader, so the same plan serves a checkout on disk and a Git tree read through the GitHub API.
import { PlatformError } from "@platform/core";
import { editFile } from "./edit.ts";
import { normaliseRepository, parseImage, SHA256_DIGEST, TAG_PATTERN } from "./image.ts";
import { type FileKind, isConfigFile, type ScannedFile, scanFiles } from "./locate.ts";
import type { HelmTemplate } from "./render.ts";
import type {
  BumpPlan,
  BumpRequest,
  BumpWarning,
  FileChange,
  ImageReference,
  RepoReader,
  SkippedReference,
} from "./types.ts";
import { checkRender, needsRender, type RenderContext } from "./verify-render.ts";

/** Reads in parallel, but not all at once: a config repo can have thousands of files. */
const READ_CONCURRENCY = 64;

/** How a plan checks Helm values edits: with `helm` (a `helm template` runner), or not at all when omitted. */
export interface PlanOptions {
  /** Renders charts to check that an edit to Helm values changes the rendered image (see verify-render.ts). */
  helm?: HelmTemplate;
}

/**
 * The edits that pin `req.image` to `req.digest` under `req.paths`; no changes when already pinned. References
 * that cannot be edited, or whose edit the chart would not render (with `opts.helm`), are listed in `skipped`.
 */
export async function planBump(
  reader: RepoReader,
  req: BumpRequest,
  opts: PlanOptions = {},
): Promise<BumpPlan> {
  checkDigest(req.digest);
  if (req.tag !== undefined && !TAG_PATTERN.test(req.tag)) {
    throw new PlatformError("GITOPS_BAD_TAG", `"${req.tag}" is not a valid image tag`, {
      input: "tag",
      hint: "A tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.",
    });
  }
  const tagPolicy = req.tagPolicy ?? (req.tag !== undefined ? "update" : "drop");
  if (tagPolicy === "update" && req.tag === undefined) {
    throw new PlatformError("GITOPS_NO_TAG", "tag-policy is update but no tag was given", {
      input: "tag-policy",
      hint: "Pass the new tag (the `tag` input, or an image-ref with one: repo:1.4.2@sha256:…), or use tag-policy drop or keep.",
    });
  }
  const image = repositoryOf(req.image);
  const paths = normalisePaths(req.paths);
  const files = await readConfigFiles(reader, paths);
  const scanned = scanFiles(files, image);
  const references = scanned.flatMap((f) => f.found.map((x) => x.ref));
  if (references.length === 0) throw notFound(image, paths, scanFiles(files, image, { classifyAll: true }));
  const editable = references.filter((r) => !r.notEditable);
  if (editable.length === 0) {
    const list = references.map((r) => `${r.file}:${r.line} ${r.path}: ${r.notEditable}`).join("\n  ");
    throw new PlatformError(
      "GITOPS_NOT_EDITABLE",
      `${image} is referenced ${references.length === 1 ? "once" : `${references.length} times`}, but no reference can be edited byte-exactly:\n  ${list}`,
      {
        file: references[0]!.file,
        line: references[0]!.line,
        hint: NOT_EDITABLE_HINT,
      },
    );
  }
  const target = { digest: req.digest, tagPolicy, ...(req.tag !== undefined ? { tag: req.tag } : {}) };
  const skipped: SkippedReference[] = references
    .filter((r) => r.notEditable)
    .map((r) => ({ ...where(r), kind: "not-editable", reason: r.notEditable!, hint: NOT_EDITABLE_HINT }));
  const ctx: RenderContext | undefined = opts.helm && {
    reader,
    helm: opts.helm,
    repository: normaliseRepository(image)!,
    charts: new Map(),
    renders: new Map(),
  };
  const changes: FileChange[] = [];
  for (const f of scanned) {
    let keep = f.found.filter((x) => !x.ref.notEditable);
    if (keep.length === 0) continue;
    if (ctx) {
      const verdicts = await Promise.all(
        keep.map((x) => (needsRender(x.ref) ? checkRender(ctx, f, x, target) : undefined)),
      );
      for (const [i, v] of verdicts.entries()) {
        if (v?.kind === "not-bumpable" || v?.kind === "not-verified")
          skipped.push({ ...where(keep[i]!.ref), kind: v.kind, reason: v.reason, hint: v.hint });
      }
      keep = keep.filter(
        (_, i) => verdicts[i]?.kind !== "not-bumpable" && verdicts[i]?.kind !== "not-verified",
      );
    }
    const change = editFile({ ...f, found: keep }, target);
    if (change) changes.push(change);
  }
  skipped.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { references, changes, skipped, warnings: warningsFor(changes, req.digest) };
}

const NOT_EDITABLE_HINT =
  "Give the reference a digest field (or a literal block for Argo CD helm.values) once by hand; later bumps edit it in place.";

function where(r: ImageReference): Pick<SkippedReference, "file" | "line" | "path" | "source"> {
  return { file: r.file, line: r.line, path: r.path, source: r.source };
}

/** Stale tags the policy could not drop, and several different old digests collapsing into one. */
function warningsFor(changes: FileChange[], digest: string): BumpWarning[] {
  const out: BumpWarning[] = [];
  const old = new Map<string, string[]>();
  for (const c of changes) {
    for (const e of c.edits) {
      if (e.staleTag !== undefined) {
        out.push({
          code: "stale-tag",
          file: c.file,
          line: e.line,
          message: `${c.file}:${e.line} ${e.path}: the tag ${e.staleTag} stays beside the new digest (a Helm tag the chart templates in cannot be dropped); pass the new tag (\`tag\`) to update it`,
        });
      }
      if (e.oldDigest !== undefined && e.oldDigest !== digest) {
        old.set(e.oldDigest, [...(old.get(e.oldDigest) ?? []), `${c.file}:${e.line}`]);
      }
    }
  }
  if (old.size > 1) {
    const list = [...old].map(([d, at]) => `${short(d)} (${at.join(", ")})`).join("; ");
    out.push({
      code: "digests-collapsed",
      message: `${old.size} different digests now pin one (${short(digest)}): ${list} — check that they were meant to run the same build`,
    });
  }
  return out;
}

/** One environment of the promotion order (platform.yaml `environments`). */
export interface Environment {
  name: string;
  /** Directory of the config repo holding the environment's overlay. */
  path: string;
}

export interface PromotionInput {
  environments: Environment[];
  /** The environment to bump. */
  target: string;
  image: string;
  digest: string;
  /** Bump even when the digest has not reached the environment before it. */
  force?: boolean;
}

/** Whether a digest may go to an environment: the first always; a later one once the one before runs it. */
export type PromotionVerdict =
  | {
      verdict: "allowed";
      environment: string;
      reason: "first-environment" | "present-in-previous" | "forced";
      previous?: string;
      message: string;
    }
  | {
      verdict: "blocked";
      environment: string;
      reason: "digest-not-in-previous" | "image-not-in-previous";
      previous: string;
      /** The digests the previous environment pins for the image now. */
      previousDigests: string[];
      message: string;
      hint: string;
    };

/** Promotion by digest: prod never receives a digest that skipped staging (unless forced). */
export async function promotionCheck(reader: RepoReader, input: PromotionInput): Promise<PromotionVerdict> {
  checkDigest(input.digest);
  const index = input.environments.findIndex((e) => e.name === input.target);
  if (index < 0) {
    const names = input.environments.map((e) => e.name).join(", ") || "none";
    throw new PlatformError("GITOPS_UNKNOWN_ENVIRONMENT", `environment "${input.target}" is not configured`, {
      input: "environments",
      hint: `Use one of the environments in platform.yaml (${names}).`,
    });
  }
  const environment = input.target;
  if (index === 0) {
    return {
      verdict: "allowed",
      environment,
      reason: "first-environment",
      message: `${environment} is the first environment: it takes new digests directly`,
    };
  }
  const previous = input.environments[index - 1]!;
  const image = repositoryOf(input.image);
  const files = await readConfigFiles(reader, normalisePaths([previous.path]));
  const refs = scanFiles(files, image).flatMap((f) => f.found.map((x) => x.ref));
  const previousDigests = [...new Set(refs.flatMap((r) => (r.current.digest ? [r.current.digest] : [])))];
  if (previousDigests.includes(input.digest)) {
    return {
      verdict: "allowed",
      environment,
      reason: "present-in-previous",
      previous: previous.name,
      message: `${short(input.digest)} already runs in ${previous.name}: promoting it to ${environment}`,
    };
  }
  const reason = refs.length === 0 ? "image-not-in-previous" : "digest-not-in-previous";
  const what =
    reason === "image-not-in-previous"
      ? `${image} is not referenced in ${previous.name} (${previous.path})`
      : `${previous.name} pins ${previousDigests.map(short).join(", ") || "no digest"}, not ${short(input.digest)}`;
  if (input.force) {
    return {
      verdict: "allowed",
      environment,
      reason: "forced",
      previous: previous.name,
      message: `forced: ${what}; bumping ${environment} anyway`,
    };
  }
  return {
    verdict: "blocked",
    environment,
    reason,
    previous: previous.name,
    previousDigests,
    message: `${environment} is not bumped: ${what}. A digest reaches ${environment} only after ${previous.name}.`,
    hint: `Bump ${previous.name} first and let it run there, or set \`force: true\` to skip the promotion order.`,
  };
}

function short(digest: string): string {
  return digest.slice(0, 19);
}

function checkDigest(digest: string): void {
  if (!SHA256_DIGEST.test(digest)) {
    throw new PlatformError("GITOPS_BAD_DIGEST", `"${digest}" is not a sha256 digest`, {
      input: "image-ref",
      hint: "Pass the image with its digest, e.g. registry/repo@sha256:<64 lowercase hex> (the build-scan `image-ref` output).",
    });
  }
}

/** The repository to look for; a tag or digest on it is ignored (they are what the bump sets). */
function repositoryOf(image: string): string {
  const parsed = parseImage(image.trim());
  const repository = parsed && normaliseRepository(parsed.name);
  if (!parsed || !repository) {
    throw new PlatformError("GITOPS_BAD_IMAGE", `"${image}" is not an image repository`, {
      input: "image-ref",
      hint: "Use registry/path (lower case), e.g. northwindacr.azurecr.io/orders/api.",
    });
  }
  return parsed.name;
}

function normalisePaths(paths: string[]): string[] {
  const out = new Set<string>();
  for (const raw of paths.length ? paths : [""]) {
    const p = raw
      .trim()
      .replaceAll("\\", "/")
      .replace(/^(\.\/)+/, "")
      .replace(/\/+$/, "");
    const clean = p === "." ? "" : p;
    if (clean.startsWith("/") || clean.split("/").includes("..")) {
      throw new PlatformError("GITOPS_BAD_PATH", `"${raw}" is not a path inside the config repo`, {
        input: "paths",
        hint: "Give directories relative to the config repo's root, without `..`.",
      });
    }
    out.add(clean);
  }
  return [...out];
}

async function readConfigFiles(
  reader: RepoReader,
  paths: string[],
): Promise<Array<{ path: string; text: string }>> {
  const names = new Set<string>();
  for (const p of paths) for (const f of await reader.list(p)) if (isConfigFile(f)) names.add(f);
  const list = [...names].sort();
  const out: Array<{ path: string; text: string } | undefined> = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      const text = await reader.read(list[i]!);
      out[i] = text === undefined ? undefined : { path: list[i]!, text };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, list.length) }, worker));
  return out.filter((f) => f !== undefined);
}

const KIND_LABELS: Array<[FileKind, string, string]> = [
  ["kustomization", "kustomization", "kustomizations"],
  ["helm-values", "Helm values file", "Helm values files"],
  ["manifest", "manifest file", "manifest files"],
  ["flux-helmrelease", "Flux HelmRelease", "Flux HelmReleases"],
  ["argocd-application", "Argo CD Application", "Argo CD Applications"],
  ["other-yaml", "other YAML file", "other YAML files"],
  ["chart", "Chart.yaml", "Chart.yaml files"],
  ["chart-template", "chart template (not searched)", "chart templates (not searched)"],
];

function notFound(image: string, paths: string[], scanned: ScannedFile[]): PlatformError {
  const where = paths.map((p) => p || ".").join(", ");
  const counts = KIND_LABELS.flatMap(([kind, one, many]) => {
    const n = scanned.filter((f) => f.kinds.has(kind)).length;
    return n ? [`${n} ${n === 1 ? one : many}`] : [];
  });
  const problems = scanned
    .filter((f) => f.problem)
    .map((f) => `${f.path} (${f.problem})`)
    .slice(0, 10);
  const looked =
    scanned.length === 0
      ? "no YAML files there"
      : `${scanned.length} YAML file${scanned.length === 1 ? "" : "s"}: ${counts.join(", ") || "none of a known kind"}`;
  const skipped = problems.length ? `; not searched: ${problems.join(", ")}` : "";
  const normalised = normaliseRepository(image);
  return new PlatformError(
    "GITOPS_IMAGE_NOT_FOUND",
    `${image}${normalised && normalised !== image ? ` (${normalised})` : ""} is not referenced under ${where} — looked at ${looked}${skipped}`,
    {
      input: "paths",
      hint: `Set the \`paths\` input to the config-repo directories that reference the image (searched: ${where}); kustomize images, Helm values, manifests, Flux HelmReleases and Argo CD Applications are searched there.`,
    },
  );
}
