import { lineIndex } from "@platform/core";
// Finding every reference to one image repository in a config repo, by value, in each layout GitOps repos
// use. What is found carries the exact scalars to edit (see edit.ts), not just a description.
import { SCALAR_STYLE } from "js-yaml";
import { joinRegistry, normaliseRepository, type ParsedImage, parseImage } from "./image.ts";
import {
  deref,
  fields,
  LIMITS,
  type ParsedYaml,
  parseYaml,
  stringScalar,
  type YMap,
  type YNode,
  type YScalar,
} from "./tree.ts";
import type { ImageReference } from "./types.ts";

/** Files larger than this are not config: they are skipped, never parsed. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

export type Path = Array<string | number>;
export type Source = ImageReference["source"];

/** What a file was taken for; a multi-document file can be several. */
export type FileKind =
  | "kustomization"
  | "helm-values"
  | "manifest"
  | "flux-helmrelease"
  | "argocd-application"
  | "other-yaml"
  | "chart"
  | "chart-template"
  | "unparseable"
  | "too-large";

/**
 * Where an edit happens: the file's own YAML, or a YAML document inside one of its strings (Argo CD
 * `helm.values`). A nested scope maps its offsets back to the file's.
 */
export interface Scope {
  parsed: ParsedYaml;
  host?: Host;
}

/** A literal block scalar holding YAML, and how its content maps onto the file's bytes. */
export interface Host {
  node: YScalar;
  doc: number;
  path: Path;
  /** Offset in the content (as decoded) → offset in the file. */
  toOuter: (offset: number) => number;
  /** The block's indentation, written after every line break inserted inside it. */
  indent: string;
  /** Why its content cannot be edited in place, when it cannot. */
  notEditable?: string;
}

/**
 * A scalar holding part of a reference. `tag` and `digest` are ranges inside its value; `appendDigestAt`
 * is where `@digest` goes in an image string that has none.
 */
export interface Slot {
  node: YScalar;
  path: Path;
  tag?: [number, number];
  digest?: [number, number];
  appendDigestAt?: number;
  /** The key's end, for an empty `digest:` whose value has no source range. */
  keyEnd?: number;
  /**
   * A tag in a field of its own: kustomize `newTag` (kustomize writes it before the digest, so it can be
   * dropped with its line) or a Helm `tag` (the chart templates it in, so it cannot be dropped).
   */
  tagField?: { kind: "kustomize"; key: YScalar; map: YMap } | { kind: "helm" };
}

/** Where a `digest:` line goes when a map-shaped reference has none. */
export interface Insertion {
  map: YMap;
  path: Path;
  /** The most specific sibling: the new line goes after its value, at its key's indentation. */
  after: { key: YScalar; value: YNode };
}

export interface Found {
  ref: ImageReference;
  scope: Scope;
  doc: number;
  slots: Slot[];
  insert?: Insertion;
}

export interface ScannedFile {
  path: string;
  text: string;
  kinds: Set<FileKind>;
  /** Parse failure or other reason the file was not searched. */
  problem?: string;
  /** The file's own YAML, once parsed. */
  scope?: Scope;
  found: Found[];
}

interface Ctx {
  file: string;
  target: string;
  scope: Scope;
  doc: number;
  at: (offset: number) => { line: number; column: number };
  out: Found[];
  budget: { visits: number };
}

const KUSTOMIZATION_FILE = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;
const YAML_FILE = /\.ya?ml$/i;
const VALUES_FILE = /(^|\/)([^/]*[-_.])?values([-_.][^/]*)?\.ya?ml$/i;
const POD_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);
const IMAGE_KEY = /image$/i;

/** Whether a path names a file that can hold references (YAML, or kustomize's extension-less `Kustomization`). */
export function isConfigFile(path: string): boolean {
  return YAML_FILE.test(path) || KUSTOMIZATION_FILE.test(path);
}

/** Every reference to an image repository (matched after normalisation) in the given files. */
export function locateImage(files: Array<{ path: string; text: string }>, image: string): ImageReference[] {
  return scanFiles(files, image).flatMap((f) => f.found.map((x) => x.ref));
}

/** Scans files for an image; files that cannot contain it (by a cheap text test) are classified lazily. */
export function scanFiles(
  files: Array<{ path: string; text: string }>,
  image: string,
  opts: { classifyAll?: boolean } = {},
): ScannedFile[] {
  const target = normaliseRepository(image);
  if (!target) return [];
  // The repository's last path component is written verbatim in every layout (repository, image string,
  // parameter value), unless escaped in a double-quoted string: only files that contain it (or a
  // backslash) are worth parsing.
  const needle = target.slice(target.lastIndexOf("/") + 1);
  const charts = chartDirs(files.map((f) => f.path));
  const out: ScannedFile[] = [];
  for (const f of files) {
    if (!isConfigFile(f.path)) continue;
    if (!opts.classifyAll && !f.text.includes(needle) && !f.text.includes("\\")) continue;
    out.push(scanFile(f.path, f.text, target, charts));
  }
  return out;
}

/** Directories holding a Chart.yaml: YAML under them (outside templates/) is Helm values. */
function chartDirs(paths: string[]): string[] {
  // Deepest first, so a file in a subchart belongs to the subchart.
  return paths
    .filter((p) => /(^|\/)Chart\.ya?ml$/.test(p))
    .map((p) => p.slice(0, p.lastIndexOf("/") + 1))
    .sort((a, b) => b.length - a.length);
}

function scanFile(path: string, text: string, target: string, charts: string[]): ScannedFile {
  const scanned: ScannedFile = { path, text, kinds: new Set(), found: [] };
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    scanned.kinds.add("too-large");
    scanned.problem = `larger than ${MAX_FILE_BYTES} bytes`;
    return scanned;
  }
  const chart = charts.find((c) => path.startsWith(c));
  if (chart !== undefined && /(^|\/)Chart\.ya?ml$/.test(path)) {
    scanned.kinds.add("chart");
    return scanned;
  }
  if (chart !== undefined && path.slice(chart.length).startsWith("templates/")) {
    scanned.kinds.add("chart-template");
    return scanned;
  }
  let parsed: ParsedYaml;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    scanned.kinds.add("unparseable");
    scanned.problem = (err as Error).message.split("\n")[0];
    return scanned;
  }
  const scope: Scope = { parsed };
  scanned.scope = scope;
  const at = lineIndex(text);
  for (const [doc, root] of parsed.roots.entries()) {
    const ctx: Ctx = { file: path, target, scope, doc, at, out: scanned.found, budget: { visits: 0 } };
    const kind = classify(path, root, chart !== undefined);
    scanned.kinds.add(kind);
    try {
      searchDocument(kind, root, ctx);
    } catch (err) {
      if (!(err instanceof BudgetExceeded)) throw err;
      scanned.problem = `document ${doc + 1} expands to more than ${LIMITS.maxVisits} nodes through aliases`;
    }
  }
  scanned.found.sort((a, b) => a.ref.line - b.ref.line || a.ref.column - b.ref.column);
  return scanned;
}

function classify(path: string, root: YNode | undefined, inChart: boolean): FileKind {
  const r = deref(root);
  const f = r?.kind === "map" ? fields(r) : undefined;
  const apiVersion = stringScalar(f?.get("apiVersion")?.value)?.value ?? "";
  const kind = stringScalar(f?.get("kind")?.value)?.value ?? "";
  if (KUSTOMIZATION_FILE.test(path)) return "kustomization";
  if (apiVersion.startsWith("kustomize.config.k8s.io/")) return "kustomization";
  if (kind === "Kustomization" && apiVersion.startsWith("kustomize.toolkit.fluxcd.io/"))
    return "kustomization";
  if (kind === "HelmRelease" && apiVersion.startsWith("helm.toolkit.fluxcd.io/")) return "flux-helmrelease";
  if ((kind === "Application" || kind === "ApplicationSet") && apiVersion.startsWith("argoproj.io/"))
    return "argocd-application";
  if (apiVersion && kind) return "manifest";
  if (VALUES_FILE.test(path)) return "helm-values";
  if (inChart) return "helm-values";
  return "other-yaml";
}

function searchDocument(kind: FileKind, root: YNode | undefined, ctx: Ctx): void {
  const r = deref(root);
  if (r?.kind !== "map") {
    if (kind === "helm-values" && r) walkHelm(r, [], "helm-values", ctx);
    return;
  }
  const top = fields(r);
  const spec = deref(top.get("spec")?.value);
  const specFields = spec?.kind === "map" ? fields(spec) : undefined;
  switch (kind) {
    case "kustomization": {
      // kustomize's own file has `images` at the top; Flux's Kustomization has it under spec.
      const images = top.has("images") ? top.get("images") : specFields?.get("images");
      const prefix = top.has("images") ? ["images"] : ["spec", "images"];
      if (images) kustomizeImages(images.value, prefix, "kustomize-images", ctx);
      return;
    }
    case "flux-helmrelease": {
      const values = specFields?.get("values");
      if (values) walkHelm(values.value, ["spec", "values"], "flux-helmrelease", ctx);
      const renderers = deref(specFields?.get("postRenderers")?.value);
      if (renderers?.kind === "seq") {
        for (const [i, item] of renderers.items.entries()) {
          const k = child(child(item, "kustomize"), "images");
          if (k)
            kustomizeImages(k, ["spec", "postRenderers", i, "kustomize", "images"], "flux-helmrelease", ctx);
        }
      }
      return;
    }
    case "argocd-application": {
      const isSet = stringScalar(top.get("kind")?.value)?.value === "ApplicationSet";
      const appSpec = isSet ? child(child(spec, "template"), "spec") : spec;
      const base: Path = isSet ? ["spec", "template", "spec"] : ["spec"];
      const one = child(appSpec, "source");
      if (one) argoSource(one, [...base, "source"], ctx);
      const many = deref(child(appSpec, "sources"));
      if (many?.kind === "seq")
        for (const [i, s] of many.items.entries()) argoSource(s, [...base, "sources", i], ctx);
      return;
    }
    case "helm-values":
      walkHelm(r, [], "helm-values", ctx);
      return;
    case "manifest":
      walkPods(r, [], ctx);
      return;
    default:
      return;
  }
}

function child(n: YNode | undefined, key: string): YNode | undefined {
  const m = deref(n);
  return m?.kind === "map" ? fields(m).get(key)?.value : undefined;
}

class BudgetExceeded extends Error {}
function visit(ctx: Ctx): void {
  if (++ctx.budget.visits > LIMITS.maxVisits) throw new BudgetExceeded();
}

/** Where a node is used: an alias's own position, so a reference reached through one points there. */
function usedAt(n: YNode, fallback: number): number {
  if (n.kind === "alias") return n.start;
  if (n.kind === "scalar") return n.start >= 0 ? n.start : fallback;
  return n.start;
}

function reference(
  ctx: Ctx,
  source: Source,
  path: Path,
  offset: number,
  current: ImageReference["current"],
): ImageReference {
  const host = ctx.scope.host;
  const pos = ctx.at(host ? host.toOuter(offset) : offset);
  const shown = host ? `${formatPath(host.path)} > ${formatPath(path)}` : formatPath(path);
  return { file: ctx.file, line: pos.line, column: pos.column, source, path: shown, current };
}

/** `spec.values.api.image`, `images[0]`, `["app.kubernetes.io/name"]`. */
export function formatPath(path: Path): string {
  let s = "";
  for (const seg of path) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

/** Why a scalar's bytes cannot be spliced, or undefined when its source is exactly its value. */
function unsplicable(s: YScalar, text: string): string | undefined {
  if (s.valueStart < 0) return undefined;
  if (text.slice(s.valueStart, s.valueEnd) === s.value) return undefined;
  if (s.style === SCALAR_STYLE.LITERAL_BLOCK || s.style === SCALAR_STYLE.FOLDED_BLOCK)
    return "the value is a block scalar over several lines";
  return "the value is written with escapes or folded over lines";
}

/**
 * A one-line block scalar (`- >-` then the image on the next line) as a scalar whose range is exactly its
 * value: an edit without spaces or line breaks cannot change how such a line folds, so it splices safely.
 */
function inlineBlock(s: YScalar, text: string): YScalar | undefined {
  if (s.style !== SCALAR_STYLE.LITERAL_BLOCK && s.style !== SCALAR_STYLE.FOLDED_BLOCK) return undefined;
  if (s.valueStart < 0 || !s.value || /[\s]/.test(s.value)) return undefined;
  const region = text.slice(s.valueStart, s.valueEnd);
  const at = region.search(/\S/);
  if (at < 0 || region.slice(at, at + s.value.length) !== s.value) return undefined;
  if (!/^\s*$/.test(region.slice(at + s.value.length))) return undefined;
  return { ...s, valueStart: s.valueStart + at, valueEnd: s.valueStart + at + s.value.length };
}

// ---- kustomize images: entries of name / newName / newTag / digest -------------------------------------

function kustomizeImages(list: YNode, prefix: Path, source: Source, ctx: Ctx): void {
  const seq = deref(list);
  if (seq?.kind !== "seq") return;
  for (const [i, item] of seq.items.entries()) {
    visit(ctx);
    const entry = deref(item);
    if (entry?.kind !== "map") continue;
    const f = fields(entry);
    const name = stringScalar(f.get("name")?.value);
    const newName = stringScalar(f.get("newName")?.value);
    const effective = newName ?? name;
    if (!effective || normaliseRepository(effective.value) !== ctx.target) continue;
    const path = [...prefix, i];
    const current: ImageReference["current"] = { repository: effective.value };
    const draft: Draft = { slots: [], problems: [] };
    const tag = f.get("newTag");
    const tagNode = stringScalar(tag?.value);
    if (tagNode) {
      current.tag = tagNode.value;
      addSlot(draft, ctx, tagNode, [...path, "newTag"], {
        tag: [0, tagNode.value.length],
        tagField: { kind: "kustomize", key: tag!.key, map: entry },
      });
    }
    const digest = f.get("digest");
    if (digest) {
      digestSlot(draft, ctx, digest.value, [...path, "digest"], current, digest.key);
    } else {
      const after = f.get("newTag") ?? f.get("newName") ?? f.get("name");
      if (after) draft.insert = { map: entry, path, after: { key: after.key, value: after.value } };
    }
    finish(draft, reference(ctx, source, path, usedAt(item, entry.start), current), ctx);
  }
}

// ---- Helm values: image maps and image strings, at any depth --------------------------------------------

interface FieldRef {
  key?: YScalar;
  value: YNode;
  path: Path;
}

function walkHelm(node: YNode, path: Path, source: Source, ctx: Ctx): void {
  visit(ctx);
  if (path.length > LIMITS.maxDepth) return;
  const n = deref(node);
  if (!n) return;
  if (n.kind === "seq") {
    for (const [i, item] of n.items.entries()) walkHelm(item, [...path, i], source, ctx);
    return;
  }
  if (n.kind !== "map") return;
  const f = fields(n);
  const access = (k: string): FieldRef | undefined => {
    const e = f.get(k);
    return e && { key: e.key, value: e.value, path: [...path, k] };
  };
  if (helmImageMap(access, n, path, usedAt(node, n.start), source, ctx)) return;
  for (const [k, { value }] of f) {
    const v = deref(value);
    if (v?.kind === "scalar" && IMAGE_KEY.test(k)) imageString(value, [...path, k], 0, source, ctx);
    else if (v?.kind === "map" || v?.kind === "seq") walkHelm(value, [...path, k], source, ctx);
  }
}

/**
 * A map-shaped image: `repository` (with an optional `registry` in front), or `registry` + `image`
 * (ingress-nginx), next to `tag` and `digest`. True when it names an image (the target or not), so its
 * fields are not searched again as image strings.
 */
function helmImageMap(
  get: (key: string) => FieldRef | undefined,
  map: YMap | undefined,
  path: Path,
  offset: number,
  source: Source,
  ctx: Ctx,
  missingDigest?: string,
): boolean {
  const registry = stringScalar(get("registry")?.value);
  const repository = stringScalar(get("repository")?.value);
  const imageField = registry && !repository ? stringScalar(get("image")?.value) : undefined;
  const nameNode = repository ?? imageField;
  if (!nameNode) return false;
  const name = joinRegistry(registry?.value, nameNode.value);
  const parsed = parseImage(name);
  if (!parsed) return false;
  if (parsed.repository !== ctx.target) return true;
  const current: ImageReference["current"] = { repository: name };
  const draft: Draft = { slots: [], problems: [] };
  if (parsed.tag !== undefined || parsed.digest !== undefined) {
    current.repository = parsed.name;
    if (parsed.tag !== undefined) current.tag = parsed.tag;
    if (parsed.digest !== undefined) current.digest = parsed.digest;
    draft.problems.push("the repository field carries a tag or digest; keep them in `tag` / `digest`");
  }
  const tag = get("tag");
  const tagNode = stringScalar(tag?.value);
  let digestInTag = false;
  if (tag && tagNode) {
    // `tag: 1.2.3@sha256:…` pins a digest in charts without a digest field: edit it inside the tag.
    const at = tagNode.value.indexOf("@");
    if (at >= 0) {
      digestInTag = true;
      current.tag = tagNode.value.slice(0, at);
      current.digest = tagNode.value.slice(at + 1);
      addSlot(draft, ctx, tagNode, tag.path, {
        tag: [0, at],
        digest: [at + 1, tagNode.value.length],
        tagField: { kind: "helm" },
      });
    } else {
      current.tag = tagNode.value;
      addSlot(draft, ctx, tagNode, tag.path, {
        tag: [0, tagNode.value.length],
        tagField: { kind: "helm" },
      });
    }
  }
  const digest = get("digest");
  if (digest) {
    digestSlot(draft, ctx, digest.value, digest.path, current, digest.key);
  } else if (!digestInTag) {
    const after = tagNode ? tag : (get("repository") ?? get("image"));
    if (map && after?.key) draft.insert = { map, path, after: { key: after.key, value: after.value } };
    else if (missingDigest) draft.problems.push(missingDigest);
  }
  finish(draft, reference(ctx, source, path, offset, current), ctx);
  return true;
}

/** A string `name[:tag][@digest]` (from `offset` on, for Argo CD's `old=new` overrides) naming the target. */
function imageString(node: YNode, path: Path, offset: number, source: Source, ctx: Ctx): void {
  const s = stringScalar(node);
  if (!s) return;
  const parsed: ParsedImage | undefined = parseImage(s.value.slice(offset));
  if (!parsed || parsed.repository !== ctx.target) return;
  const current: ImageReference["current"] = { repository: parsed.name };
  if (parsed.tag !== undefined) current.tag = parsed.tag;
  if (parsed.digest !== undefined) current.digest = parsed.digest;
  const draft: Draft = { slots: [], problems: [] };
  const shift = (r: [number, number] | undefined): [number, number] | undefined =>
    r && [r[0] + offset, r[1] + offset];
  addSlot(draft, ctx, s, path, {
    tag: shift(parsed.tagRange),
    digest: shift(parsed.digestRange),
    appendDigestAt: parsed.digestRange ? undefined : s.value.length,
  });
  finish(draft, reference(ctx, source, path, usedAt(node, s.start), current), ctx);
}

// ---- raw manifests: containers / initContainers / ephemeralContainers, wherever a pod spec sits ----------

function walkPods(node: YNode, path: Path, ctx: Ctx): void {
  visit(ctx);
  if (path.length > LIMITS.maxDepth) return;
  const n = deref(node);
  if (n?.kind === "seq") {
    for (const [i, item] of n.items.entries()) walkPods(item, [...path, i], ctx);
    return;
  }
  if (n?.kind !== "map") return;
  for (const [k, { value }] of fields(n)) {
    const v = deref(value);
    if (POD_LISTS.has(k) && v?.kind === "seq") {
      for (const [i, c] of v.items.entries()) {
        const image = child(c, "image");
        if (image) imageString(image, [...path, k, i, "image"], 0, "manifest", ctx);
      }
    } else if (v?.kind === "map" || v?.kind === "seq") {
      walkPods(value, [...path, k], ctx);
    }
  }
}

// ---- Argo CD Application sources: helm parameters / values / valuesObject, kustomize images --------------

function argoSource(src: YNode, path: Path, ctx: Ctx): void {
  const helm = child(src, "helm");
  const helmPath = [...path, "helm"];
  const params = deref(child(helm, "parameters"));
  if (params?.kind === "seq") argoParameters(params.items, [...helmPath, "parameters"], ctx);
  const valuesObject = child(helm, "valuesObject");
  if (valuesObject) walkHelm(valuesObject, [...helmPath, "valuesObject"], "argocd-application", ctx);
  const values = child(helm, "values");
  const valuesNode = stringScalar(values);
  if (values && valuesNode) nestedValues(valuesNode, [...helmPath, "values"], ctx);
  const images = deref(child(child(src, "kustomize"), "images"));
  if (images?.kind === "seq") {
    for (const [i, item] of images.items.entries()) {
      const s = stringScalar(item);
      if (!s) continue;
      // `[old=]new[:tag][@digest]`: the override names the image after `=`.
      const eq = s.value.indexOf("=");
      imageString(item, [...path, "kustomize", "images", i], eq + 1, "argocd-application", ctx);
    }
  }
}

const PARAM_FIELDS = ["repository", "registry", "image", "tag", "digest"] as const;

/** `image.repository` / `image.tag` / `image.digest` parameters, grouped by prefix and read like a Helm map. */
function argoParameters(items: YNode[], path: Path, ctx: Ctx): void {
  const groups = new Map<string, Map<string, FieldRef>>();
  for (const [i, item] of items.entries()) {
    visit(ctx);
    const entry = deref(item);
    const f = entry?.kind === "map" ? fields(entry) : undefined;
    const name = stringScalar(f?.get("name")?.value)?.value;
    const value = f?.get("value");
    if (name === undefined || !value) continue;
    const field = PARAM_FIELDS.find((f) => name === f || name.endsWith(`.${f}`));
    if (field) {
      const prefix = name.slice(0, name.length - field.length);
      const group = groups.get(prefix) ?? new Map<string, FieldRef>();
      group.set(field, { key: value.key, value: value.value, path: [...path, i, "value"] });
      groups.set(prefix, group);
    } else if (IMAGE_KEY.test(name.slice(name.lastIndexOf(".") + 1))) {
      // `sidecarImage`, `jobs.initImage`: a whole image string, like such keys in values files.
      imageString(value.value, [...path, i, "value"], 0, "argocd-application", ctx);
    }
  }
  for (const [prefix, group] of groups) {
    const first = [...group.values()][0]!;
    const offset = usedAt(first.value, first.key?.start ?? 0);
    const missing = `there is no \`${prefix}digest\` parameter (add one next to \`${prefix}tag\` once, for a chart that reads it)`;
    const at = first.path.slice(0, -1);
    if (helmImageMap((k) => group.get(k), undefined, at, offset, "argocd-application", ctx, missing))
      continue;
    const image = group.get("image");
    if (image) imageString(image.value, image.path, 0, "argocd-application", ctx);
  }
}

/** Argo CD `helm.values`: YAML in a string. Searched always; edited only inside a literal block (`|`). */
function nestedValues(node: YScalar, path: Path, ctx: Ctx): void {
  let parsed: ParsedYaml;
  try {
    parsed = parseYaml(node.value);
  } catch {
    return;
  }
  const host: Host = { node, doc: ctx.doc, path, toOuter: () => usedAt(node, 0), indent: "" };
  const mapped = blockMapping(node, ctx.scope.parsed.text);
  if (ctx.scope.host) host.notEditable = "YAML nested in YAML nested in YAML is not edited";
  else if (mapped) Object.assign(host, mapped);
  else if (node.style === SCALAR_STYLE.LITERAL_BLOCK)
    host.notEditable = "the `helm.values` block could not be mapped onto the file byte for byte";
  else
    host.notEditable =
      "`helm.values` is not a literal block scalar (`values: |`), so it cannot be edited in place";
  const scope: Scope = { parsed, host };
  for (const [doc, root] of parsed.roots.entries()) {
    if (root) walkHelm(root, [], "argocd-application", { ...ctx, scope, doc });
  }
}

/**
 * For a literal block scalar, the mapping from its decoded content to file offsets: each content line is
 * the source line minus the block's indentation (and a CR). Undefined when that does not reproduce the
 * decoded value, so nothing is ever edited on a guess.
 */
function blockMapping(node: YScalar, text: string): Pick<Host, "toOuter" | "indent"> | undefined {
  if (node.style !== SCALAR_STYLE.LITERAL_BLOCK || node.indent < 0) return undefined;
  const region = text.slice(node.valueStart, node.valueEnd);
  const lines = region.split("\n");
  const innerStarts: number[] = [];
  const outerStarts: number[] = [];
  const pieces: string[] = [];
  let inner = 0;
  let outer = node.valueStart;
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const strip = Math.min(node.indent, line.length);
    if (!/^ *$/.test(line.slice(0, strip))) return undefined;
    innerStarts.push(inner);
    outerStarts.push(outer + strip);
    pieces.push(line.slice(strip));
    inner += line.length - strip + 1;
    outer += raw.length + 1;
  }
  const content = pieces.join("\n");
  if (content.replace(/\n+$/, "") !== node.value.replace(/\n+$/, "")) return undefined;
  const toOuter = (offset: number): number => {
    let lo = 0;
    let hi = innerStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (innerStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return outerStarts[lo]! + (offset - innerStarts[lo]!);
  };
  return { toOuter, indent: " ".repeat(node.indent) };
}

// ---- shared ------------------------------------------------------------------------------------------------

/** A reference being read: its slots, where a digest line would go, and what keeps it from being edited. */
interface Draft {
  slots: Slot[];
  insert?: Insertion;
  problems: string[];
}

function addSlot(
  draft: Draft,
  ctx: Ctx,
  node: YScalar,
  path: Path,
  ranges: Omit<Slot, "node" | "path">,
): void {
  const text = ctx.scope.parsed.text;
  const n = inlineBlock(node, text) ?? node;
  const why = unsplicable(n, text);
  if (why) draft.problems.push(`${formatPath(path)}: ${why}`);
  draft.slots.push({ node: n, path, ...ranges });
}

function digestSlot(
  draft: Draft,
  ctx: Ctx,
  value: YNode,
  path: Path,
  current: ImageReference["current"],
  key?: YScalar,
): void {
  const d = deref(value);
  if (d?.kind !== "scalar") {
    draft.problems.push(`${formatPath(path)} is not a string`);
    return;
  }
  if (stringScalar(d)) current.digest = d.value;
  if (d.valueStart < 0 && !key) draft.problems.push(`${formatPath(path)} is empty`);
  addSlot(draft, ctx, d, path, {
    digest: [0, d.value.length],
    keyEnd: d.valueStart < 0 ? key?.end : undefined,
  });
}

function finish(draft: Draft, ref: ImageReference, ctx: Ctx): void {
  const problems = [...draft.problems];
  if (ctx.scope.host?.notEditable) problems.unshift(ctx.scope.host.notEditable);
  const canPin = draft.slots.some((s) => s.digest || s.appendDigestAt !== undefined) || draft.insert;
  if (!canPin && !problems.length) problems.push("there is no digest field and none can be added here");
  if (problems.length) ref.notEditable = problems.join("; ");
  ctx.out.push({ ref, scope: ctx.scope, doc: ctx.doc, slots: draft.slots, insert: draft.insert });
}
