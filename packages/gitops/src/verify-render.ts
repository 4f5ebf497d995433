// Which chart renders a Helm-values reference, with which values, and whether an edit to it changes the
// rendered image to the new digest. A values edit the chart never reads is "not bumpable"; one whose chart
// cannot be rendered from the config repo is "not verified". Neither is ever reported as a bump.
import { isPlatformError } from "@platform/core";
import { type BumpTarget, editFile } from "./edit.ts";
import type { Found, ScannedFile } from "./locate.ts";
import {
  type HelmRun,
  type HelmTemplate,
  inChart,
  pinsDigest,
  readChart,
  renderedImages,
  repoPath,
} from "./render.ts";
import { constructValues, parseYaml } from "./tree.ts";
import type { ImageReference, RepoReader, SkippedReference } from "./types.ts";

/** What one plan shares between its render checks: the reader, helm, and caches of charts and renders. */
export interface RenderContext {
  reader: RepoReader;
  helm: HelmTemplate;
  /** The normalised repository being bumped. */
  repository: string;
  charts: Map<string, Promise<Record<string, string>>>;
  renders: Map<string, Promise<string>>;
}

export type RenderVerdict =
  | { kind: "effective"; before: string[]; after: string[] }
  | { kind: "unchanged" }
  | (Pick<SkippedReference, "reason" | "hint"> & { kind: "not-bumpable" | "not-verified" });

/** Whether the tool that reads a reference needs rendering to show the edit: Helm values do; kustomize images and manifests are the image. */
export function needsRender(ref: ImageReference): boolean {
  if (ref.source === "helm-values") return true;
  if (ref.source === "flux-helmrelease") return !ref.path.startsWith("spec.postRenderers");
  if (ref.source === "argocd-application") return !/\.kustomize\.images\[/.test(ref.path);
  return false;
}

const NOT_VERIFIED_HINT =
  "Keep the chart in the config repo (a Helm values file beside its Chart.yaml, a HelmRelease from a GitRepository path, an Application with `path:`), or set `verify-render: false` to edit without rendering — only if you know the chart reads this field.";

/** Renders the chart before and after this one reference's edit and compares the images of the rendered objects. */
export async function checkRender(
  ctx: RenderContext,
  file: ScannedFile,
  found: Found,
  target: BumpTarget,
): Promise<RenderVerdict> {
  const edited = editFile({ ...file, found: [found] }, target);
  if (!edited) return { kind: "unchanged" };
  const before = await unitFor(ctx, file.path, file.text, found);
  const after = await unitFor(ctx, file.path, edited.after, found);
  if (typeof before === "string" || typeof after === "string") {
    return {
      kind: "not-verified",
      reason: typeof before === "string" ? before : String(after),
      hint: NOT_VERIFIED_HINT,
    };
  }
  let was: string[];
  let now: string[];
  try {
    was = renderedImages(await render(ctx, before));
    now = renderedImages(await render(ctx, after));
  } catch (err) {
    if (isPlatformError(err) && err.code === "GITOPS_RENDER_FAILED") {
      return { kind: "not-verified", reason: firstLines(err.message), hint: NOT_VERIFIED_HINT };
    }
    if (isPlatformError(err)) throw err;
    return {
      kind: "not-verified",
      reason: `the output of helm template on ${before.chart} could not be read: ${firstLines(String(err))}`,
      hint: NOT_VERIFIED_HINT,
    };
  }
  const mine = now.filter((i) => pinsDigest(i, ctx.repository, target.digest));
  if (mine.length > 0 && now.join("\n") !== was.join("\n"))
    return { kind: "effective", before: was, after: now };
  const edit = edited.edits[0];
  const shown = [
    ...new Set(now.filter((i) => i.includes(ctx.repository.slice(ctx.repository.lastIndexOf("/") + 1)))),
  ];
  const renders = shown.length ? shown.join(", ") : `no image of ${ctx.repository}`;
  const field = valuesPath(found.ref);
  const tag = found.ref.current.tag ?? target.tag ?? "<tag>";
  const digestField = edit?.inserted || found.slots.some((x) => x.digest && x.path.at(-1) === "digest");
  const hint = /helm\.parameters\[\d+\]$/.test(found.ref.path)
    ? `The chart does not read the digest parameter. Set the tag parameter to \`${tag}@${target.digest}\` if the chart writes \`repository:tag\`, or make the chart read the digest.`
    : digestField
      ? `The chart does not read \`${field}digest\`. Set \`${field}tag\` to \`${tag}@${target.digest}\` if its template writes \`repository:tag\`, or make the chart read \`${field}digest\` (e.g. \`{{ .Values.${field}repository }}@{{ .Values.${field}digest }}\`).`
      : `The chart does not build its image from ${found.ref.path}: edit the value its templates read (see the chart's templates/), or make the chart read this one.`;
  return {
    kind: "not-bumpable",
    reason: `the edit has no effect: helm template ${before.chart} renders ${renders} before and after it`,
    hint,
  };
}

/** `image.` for a map at `image` (nested Helm values inside an Application or a HelmRelease shown chart-relative). */
function valuesPath(ref: ImageReference): string {
  const p = ref.path.replace(/^.*(?: > |\bspec\.values\.|\.valuesObject\.)/, "");
  if (/helm\.parameters\[\d+\]$|^spec\.values$|valuesObject$/.test(p) || p.includes(" > ")) return "";
  return p ? `${p}.` : "";
}

function render(ctx: RenderContext, unit: HelmRun): Promise<string> {
  const key = JSON.stringify([unit.chart, unit.values, unit.set, unit.files]);
  let r = ctx.renders.get(key);
  if (!r) {
    r = ctx.helm(unit);
    ctx.renders.set(key, r);
  }
  return r;
}

function chartFiles(ctx: RenderContext, dir: string): Promise<Record<string, string>> {
  let c = ctx.charts.get(dir);
  if (!c) {
    c = readChart(ctx.reader, dir);
    ctx.charts.set(dir, c);
  }
  return c;
}

async function hasChart(ctx: RenderContext, dir: string): Promise<boolean> {
  return (await ctx.reader.read(dir ? `${dir}/Chart.yaml` : "Chart.yaml")) !== undefined;
}

/** The helm run for a reference in `text` (the file as it is, or as edited), or why there is none. */
async function unitFor(
  ctx: RenderContext,
  path: string,
  text: string,
  found: Found,
): Promise<HelmRun | string> {
  const ref = found.ref;
  if (ref.source === "helm-values") {
    const parts = path.split("/").slice(0, -1);
    for (let n = parts.length; n >= 0; n--) {
      const dir = parts.slice(0, n).join("/");
      if (!(await hasChart(ctx, dir))) continue;
      const files = { ...(await chartFiles(ctx, dir)) };
      const rel = inChart(dir, path)!;
      // The chart's own values.yaml is read by helm from the chart; any other file is passed as --values.
      files[rel] = text;
      return { chart: dir || ".", files, values: rel === "values.yaml" ? [] : [text], set: [] };
    }
    return `no Chart.yaml in the config repo at or above ${path}, so the chart that reads these values cannot be rendered`;
  }
  const doc = constructValues(parseYaml(text))[found.doc] as Record<string, unknown> | undefined;
  if (ref.source === "flux-helmrelease") return fluxUnit(ctx, doc);
  return argoUnit(ctx, doc, ref);
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

async function fluxUnit(ctx: RenderContext, doc: Obj | undefined): Promise<HelmRun | string> {
  const spec = obj(doc?.spec);
  const chartSpec = obj(obj(spec?.chart)?.spec);
  const source = obj(chartSpec?.sourceRef);
  const name = str(chartSpec?.chart);
  if (obj(spec?.chartRef))
    return "the HelmRelease takes its chart from spec.chartRef, not from a path in the config repo";
  if (!chartSpec || !name)
    return "the HelmRelease names no chart here (a patch of a release defined elsewhere), so it cannot be rendered on its own";
  if (str(source?.kind) !== "GitRepository") {
    return `the HelmRelease's chart ${name} comes from ${str(source?.kind) ?? "a source"} ${str(source?.name) ?? ""}, not from the config repo`.trim();
  }
  const dir = repoPath(name);
  if (dir === undefined || !(await hasChart(ctx, dir)))
    return `the HelmRelease's chart path ${name} has no Chart.yaml in the config repo`;
  const values: string[] = [];
  const valuesFiles = Array.isArray(chartSpec.valuesFiles) ? chartSpec.valuesFiles : [];
  for (const v of valuesFiles) {
    const p = typeof v === "string" ? repoPath(v) : undefined;
    const text = p === undefined ? undefined : await ctx.reader.read(p);
    if (text === undefined) return `the HelmRelease's values file ${String(v)} is not in the config repo`;
    values.push(text);
  }
  values.push(JSON.stringify(spec?.values ?? {}));
  return { chart: dir || ".", files: await chartFiles(ctx, dir), values, set: [] };
}

async function argoUnit(
  ctx: RenderContext,
  doc: Obj | undefined,
  ref: ImageReference,
): Promise<HelmRun | string> {
  const m = /^spec\.(template\.spec\.)?(?:source|sources\[(\d+)\])\./.exec(ref.path);
  let spec = obj(doc?.spec);
  if (m?.[1]) spec = obj(obj(spec?.template)?.spec);
  const source =
    m?.[2] !== undefined ? obj((spec?.sources as unknown[] | undefined)?.[Number(m[2])]) : obj(spec?.source);
  if (!source) return "the Application's source could not be read";
  const chart = str(source.chart);
  if (chart)
    return `the Application's chart ${chart} comes from ${str(source.repoURL) ?? "a Helm repository"}, not from the config repo`;
  const dir = repoPath(str(source.path) ?? "");
  if (dir === undefined || !(await hasChart(ctx, dir)))
    return `the Application's path ${str(source.path) ?? "(none)"} has no Chart.yaml in the config repo`;
  const helm = obj(source.helm) ?? {};
  const values: string[] = [];
  for (const v of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
    const p = typeof v === "string" && !v.startsWith("$") ? repoPath(`${dir}/${v}`) : undefined;
    const text = p === undefined ? undefined : await ctx.reader.read(p);
    if (text === undefined) return `the Application's value file ${String(v)} is not in the config repo`;
    values.push(text);
  }
  // Argo CD: valuesObject wins over values; both come after valueFiles, and parameters override all.
  if (obj(helm.valuesObject)) values.push(JSON.stringify(helm.valuesObject));
  else if (typeof helm.values === "string") values.push(helm.values);
  const set: HelmRun["set"] = [];
  for (const p of Array.isArray(helm.parameters) ? helm.parameters : []) {
    const name = str(obj(p)?.name);
    const value = obj(p)?.value;
    if (!name || value === undefined || value === null) continue;
    // helm splits --set on unescaped commas, as Argo CD escapes them.
    set.push({
      name,
      value: String(value).replaceAll("\\", "\\\\").replaceAll(",", "\\,"),
      string: obj(p)?.forceString === true,
    });
  }
  return { chart: dir || ".", files: await chartFiles(ctx, dir), values, set };
}

function firstLines(message: string): string {
  return message.split("\n").slice(0, 6).join(" | ");
}
