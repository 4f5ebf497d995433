// Byte-exact edits: new digest (and tag) bytes are spliced into the exact source ranges of the scalars that
// hold them, so quoting, comments, anchors, order, indentation and line endings stay as written. The only
// structural edit is one `digest:` line where a map-shaped reference has none. Every edited file is parsed
// again and compared, value for value, with what the edit was meant to produce; anything else is refused.
import { lineIndex, PlatformError } from "@platform/core";
import { CORE_SCHEMA, load, SCALAR_STYLE, YAML11_SCHEMA } from "js-yaml";
import type { Found, Host, Path, ScannedFile, Scope, Slot } from "./locate.ts";
import { formatPath } from "./locate.ts";
import { constructValues, fields, LIMITS, parseYaml, type YNode, type YScalar } from "./tree.ts";
import type { FileChange } from "./types.ts";

/** What happens to a tag written beside the digest: set to the new tag, left as it is, or removed. */
export type TagPolicy = "update" | "keep" | "drop";

export interface BumpTarget {
  digest: string;
  tag?: string;
  /** Default: `update` when `tag` is given, else `keep`. */
  tagPolicy?: TagPolicy;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

/** A value the edit must produce: a scalar replaced at `path`, or a `digest` key added to the map at `path`. */
interface Expectation {
  doc: number;
  path: Path;
  value: unknown;
  addKey?: string;
  /** A key removed from the map at `path` (a dropped kustomize `newTag`). */
  deleteKey?: string;
  /** The new text of a plain scalar, whose type depends on how it is read. */
  plain?: string;
}

/** Splices and expectations of one scope (the file, or one `helm.values` string in it). */
interface ScopeEdit {
  scope: Scope;
  splices: Splice[];
  expect: Expectation[];
}

/** The change one file needs to pin every editable reference in it; undefined when it is already pinned. */
export function editFile(file: ScannedFile, target: BumpTarget): FileChange | undefined {
  if (!file.scope) return undefined;
  const scopes = new Map<Scope, ScopeEdit>();
  const edits: FileChange["edits"] = [];
  const at = lineIndex(file.text);
  for (const found of file.found) {
    if (found.ref.notEditable) continue;
    let edit = scopes.get(found.scope);
    if (!edit) {
      edit = { scope: found.scope, splices: [], expect: [] };
      scopes.set(found.scope, edit);
    }
    const record = editReference(found, target, edit, file.path);
    if (record) {
      const { offset, below, ...rest } = record;
      edits.push({ ...rest, line: at(toOuter(found.scope, offset)).line + (below ? 1 : 0) });
    }
  }
  edits.sort((a, b) => a.line - b.line);
  // A nested scope's edits become file splices, and one expected string value in the file's scope.
  const outer = scopes.get(file.scope) ?? { scope: file.scope, splices: [], expect: [] };
  const nested = [...scopes.values()].filter((s) => s.scope.host && s.splices.length > 0);
  for (const n of nested) {
    const host = n.scope.host!;
    n.splices = dedupe(n.splices, file.path, (o) => at(host.toOuter(o)));
    outer.expect.push({ doc: host.doc, path: host.path, value: applySplices(host.node.value, n.splices) });
    outer.splices.push(...n.splices.map((s) => mapToOuter(s, host, file.text)));
  }
  if (outer.splices.length === 0) return undefined;
  const after = applySplices(file.text, dedupe(outer.splices, file.path, at));
  if (after === file.text) return undefined;
  const line = edits[0]?.line ?? 1;
  verify(file.path, line, outer.scope, after, outer.expect);
  for (const n of nested) {
    const host = n.scope.host!;
    verify(file.path, line, n.scope, applySplices(host.node.value, n.splices), n.expect);
  }
  return { file: file.path, before: file.text, after, edits };
}

/** An edit as reported, with where it starts (`below`: on the line after that offset, for an added line). */
type EditRecord = Omit<FileChange["edits"][number], "line"> & { offset: number; below?: boolean };

function editReference(
  found: Found,
  target: BumpTarget,
  edit: ScopeEdit,
  file: string,
): EditRecord | undefined {
  const text = found.scope.parsed.text;
  const policy = target.tagPolicy ?? (target.tag !== undefined ? "update" : "keep");
  const hasDigest = found.slots.some((s) => s.digest);
  const record: EditRecord = { path: found.ref.path, newDigest: target.digest, offset: -1 };
  if (found.ref.current.digest !== undefined) record.oldDigest = found.ref.current.digest;
  let changed = false;
  let digestPlaced = hasDigest;
  let insert = found.insert;
  for (const slot of found.slots) {
    const reps: Array<{ range: [number, number]; text: string; digest: boolean }> = [];
    if (slot.digest) reps.push({ range: slot.digest, text: target.digest, digest: true });
    else if (!hasDigest && slot.appendDigestAt !== undefined) {
      reps.push({
        range: [slot.appendDigestAt, slot.appendDigestAt],
        text: `@${target.digest}`,
        digest: true,
      });
      digestPlaced = true;
    }
    const value = slot.node.value;
    const oldTag = slot.tag && value.slice(slot.tag[0], slot.tag[1]);
    if (slot.tag && oldTag !== undefined) {
      if (policy === "update" && target.tag !== undefined) {
        reps.push({ range: slot.tag, text: target.tag, digest: false });
      } else if (policy === "drop" && !slot.tagField) {
        // `name:tag@digest` → `name@digest`: the colon goes with the tag.
        reps.push({ range: [slot.tag[0] - 1, slot.tag[1]], text: "", digest: false });
      } else if (policy === "drop" && slot.tagField?.kind === "kustomize") {
        const splice = dropEntrySplice(slot.tagField.key, slot.node, text);
        if (splice) {
          edit.splices.push(splice);
          edit.expect.push({
            doc: found.doc,
            path: slot.path.slice(0, -1),
            value: undefined,
            deleteKey: "newTag",
          });
          if (record.offset < 0) record.offset = splice.start;
          record.oldTag = oldTag;
          record.tagDropped = true;
          changed = true;
          // A digest line anchored after the dropped `newTag` goes after `newName` (or `name`) instead.
          if (insert && insert.after.key === slot.tagField.key) {
            const f = fields(insert.map);
            const anchor = f.get("newName") ?? f.get("name");
            insert = anchor ? { ...insert, after: anchor } : undefined;
          }
        } else record.staleTag = oldTag;
      } else if (policy === "drop" && oldTag) {
        // A Helm `tag` is templated in by the chart: removing it would break the image, so it is reported.
        record.staleTag = oldTag;
      }
    }
    let next = value;
    for (const r of [...reps].sort((a, b) => b.range[0] - a.range[0])) {
      const old = value.slice(r.range[0], r.range[1]);
      if (old === r.text) continue;
      next = next.slice(0, r.range[0]) + r.text + next.slice(r.range[1]);
      const splice = sliceSplice(slot, r.range, r.text, text, file);
      edit.splices.push(splice);
      if (r.digest || record.offset < 0) record.offset = splice.start;
      if (!r.digest) {
        record.oldTag = oldTag;
        if (r.text) record.newTag = r.text;
        else record.tagDropped = true;
      }
    }
    if (next !== value) {
      changed = true;
      edit.expect.push({ doc: found.doc, path: slot.path, ...scalarValue(slot.node, next) });
    }
  }
  if (!digestPlaced && found.insert) {
    if (!insert)
      throw unsafe(file, `cannot add a digest to ${formatPath(found.insert.path)}: no key to add it after`);
    const splice = insertionSplice({ ...found, insert }, target.digest, text, file);
    edit.splices.push(splice);
    edit.expect.push({ doc: found.doc, path: insert.path, value: target.digest, addKey: "digest" });
    record.offset = splice.start;
    record.below = !insert.map.flow;
    record.inserted = true;
    changed = true;
  }
  return changed ? record : undefined;
}

/**
 * The splice removing a `key: value` line of a block map (its comment and line break too); undefined when the
 * entry does not sit on a line of its own (first key of a `- ` item, a flow map, a multi-line value).
 */
function dropEntrySplice(key: YScalar, value: YScalar, text: string): Splice | undefined {
  const lineStart = text.lastIndexOf("\n", key.start - 1) + 1;
  if (!/^ *$/.test(text.slice(lineStart, key.start)) || value.end < 0) return undefined;
  let lineEnd = text.indexOf("\n", value.end);
  if (lineEnd < 0) lineEnd = text.length;
  if (!/^[ \t]*(#[^\n]*)?\r?$/.test(text.slice(value.end, lineEnd))) return undefined;
  if (lineEnd < text.length) return { start: lineStart, end: lineEnd + 1, text: "" };
  // The last line without a final newline: take the line break before it instead.
  const before = lineStart > 1 && text[lineStart - 2] === "\r" ? 2 : 1;
  return { start: Math.max(0, lineStart - before), end: lineEnd, text: "" };
}

/** The splice replacing `range` (offsets in the scalar's value) with `replacement`. */
function sliceSplice(
  slot: Slot,
  range: [number, number],
  replacement: string,
  text: string,
  file: string,
): Splice {
  const n = slot.node;
  if (n.valueStart >= 0)
    return { start: n.valueStart + range[0], end: n.valueStart + range[1], text: replacement };
  // An empty plain value (`digest:`) has no range of its own: write it after the key's colon.
  const colon = slot.keyEnd === undefined ? -1 : text.indexOf(":", slot.keyEnd);
  if (colon < 0 || !/^[ \t]*$/.test(text.slice(slot.keyEnd, colon)))
    throw unsafe(file, `${formatPath(slot.path)} is empty and its key could not be found`);
  return { start: colon + 1, end: colon + 1, text: ` ${replacement}` };
}

/** A plain scalar is resolved by the schema (`1.20` is a number); quoted and tagged scalars are strings. */
function scalarValue(node: YScalar, text: string): Pick<Expectation, "value" | "plain"> {
  if (node.style !== SCALAR_STYLE.PLAIN || node.tagged) return { value: text };
  return { value: load(text, { schema: CORE_SCHEMA }), plain: text };
}

/** One new line `digest: …` after the sibling's value, at the sibling key's indentation and line ending. */
function insertionSplice(found: Found, digest: string, text: string, file: string): Splice {
  const { map, after } = found.insert!;
  const where = formatPath(found.insert!.path);
  const end = nodeEnd(after.value, after.key, text);
  if (end < 0) throw unsafe(file, `cannot add a digest to ${where}: its ${after.key.value} is not a scalar`);
  // Plain: a sha256 digest reads as a string in every YAML schema, so it needs no quotes.
  const entry = `digest: ${digest}`;
  if (map.flow) return { start: end, end, text: `, ${entry}` };
  const lineStart = text.lastIndexOf("\n", after.key.start - 1) + 1;
  const lead = text.slice(lineStart, after.key.start);
  if (!/^[ -]*$/.test(lead))
    throw unsafe(file, `cannot add a digest to ${where}: its indentation is not spaces`);
  let lineEnd = text.indexOf("\n", end);
  if (lineEnd < 0) lineEnd = text.length;
  else if (text[lineEnd - 1] === "\r") lineEnd--;
  const eol = text[lineEnd] === "\r" ? "\r\n" : text[lineEnd] === "\n" ? "\n" : lineEnding(text);
  return { start: lineEnd, end: lineEnd, text: `${eol}${" ".repeat(lead.length)}${entry}` };
}

/** Where a node's source ends; -1 for a collection. */
function nodeEnd(n: YNode, key: YScalar, text: string): number {
  if (n.kind === "alias") return n.start + 1 + n.name.length;
  if (n.kind !== "scalar") return -1;
  if (n.end >= 0) return n.end;
  const colon = text.indexOf(":", key.end);
  return colon < 0 ? -1 : colon + 1;
}

/** The file's line ending, from its first line break (LF when it has none). */
function lineEnding(text: string): string {
  const nl = text.indexOf("\n");
  return nl > 0 && text[nl - 1] === "\r" ? "\r\n" : "\n";
}

function toOuter(scope: Scope, offset: number): number {
  return scope.host ? scope.host.toOuter(offset) : offset;
}

/** A splice in a `helm.values` block, moved to the file: offsets mapped, and new lines indented like the block. */
function mapToOuter(s: Splice, host: Host, text: string): Splice {
  const start = host.toOuter(s.start);
  const end = host.toOuter(s.end);
  const eol = text[start] === "\r" ? "\r\n" : text[start] === "\n" ? "\n" : lineEnding(text);
  return { start, end, text: s.text.replaceAll("\n", `${eol}${host.indent}`) };
}

function applySplices(text: string, splices: Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start || b.end - a.end)) {
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  }
  return out;
}

/** Identical splices (one scalar reached through an alias twice) collapse; overlapping different ones refuse. */
function dedupe(splices: Splice[], file: string, at: (o: number) => { line: number }): Splice[] {
  const seen = new Map<string, Splice>();
  for (const s of splices) seen.set(`${s.start}:${s.end}:${s.text}`, s);
  const sorted = [...seen.values()].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end || (cur.start === prev.start && cur.end === prev.end)) {
      throw unsafe(file, "two references want different bytes in the same place", at(cur.start).line);
    }
  }
  return sorted;
}

// ---- verification ------------------------------------------------------------------------------------------

/** Parses the edited text and checks its values equal the old ones with exactly the expected changes. */
function verify(file: string, line: number, scope: Scope, after: string, expect: Expectation[]): void {
  let expected: unknown[];
  let actual: unknown[];
  try {
    expected = constructValues(scope.parsed).map((v) => unshare(v, { nodes: 0 }));
  } catch (err) {
    throw unsafe(file, `the file cannot be read for verification: ${firstLine(err)}`, line, err);
  }
  try {
    actual = constructValues(parseYaml(after));
  } catch (err) {
    throw unsafe(file, `the edited text would not parse: ${firstLine(err)}`, line, err);
  }
  for (const e of expect) apply(expected, e, file, line);
  if (expected.length !== actual.length)
    throw unsafe(file, `the edit would change the number of documents`, line);
  for (const [i, v] of expected.entries()) {
    const diff = firstDifference(v, actual[i], []);
    if (diff) {
      const where = scope.host ? `${formatPath(scope.host.path)} > ${formatPath(diff)}` : formatPath(diff);
      throw unsafe(
        file,
        `the edit would also change ${where || "the document root"} (an anchor shared with a value that is not this image's digest, or a quoting problem)`,
        line,
      );
    }
  }
}

function apply(docs: unknown[], e: Expectation, file: string, line: number): void {
  let parent: unknown = docs;
  let key: string | number = e.doc;
  for (const seg of e.path) {
    parent = (parent as Record<string | number, unknown>)[key];
    key = seg;
    if (parent === null || typeof parent !== "object")
      throw unsafe(file, `${formatPath(e.path)} moved`, line);
  }
  const holder = parent as Record<string | number, unknown>;
  if (e.deleteKey !== undefined) {
    const map = holder[key];
    if (map === null || typeof map !== "object" || Array.isArray(map))
      throw unsafe(file, `${formatPath(e.path)} is not a map`, line);
    delete (map as Record<string, unknown>)[e.deleteKey];
    return;
  }
  if (e.addKey !== undefined) {
    const map = holder[key];
    if (map === null || typeof map !== "object" || Array.isArray(map))
      throw unsafe(file, `${formatPath(e.path)} is not a map`, line);
    (map as Record<string, unknown>)[e.addKey] = e.value;
    return;
  }
  const old = holder[key];
  if (typeof old === "string" && e.plain !== undefined) {
    // Helm and kubectl read YAML 1.1, where `on`, `0x1F` and `1_000` are not strings either.
    const yaml11 = load(e.plain, { schema: YAML11_SCHEMA });
    const wrong = typeof e.value !== "string" ? e.value : typeof yaml11 !== "string" ? yaml11 : undefined;
    if (wrong !== undefined) {
      const type = wrong === null ? "null" : wrong instanceof Date ? "timestamp" : typeof wrong;
      throw unsafe(
        file,
        `${formatPath(e.path)} would be read as a ${type} instead of a string; quote it`,
        line,
      );
    }
  }
  holder[key] = e.value;
}

/** A deep copy in which every alias becomes its own copy, so an expected change stays where it was made. */
function unshare(v: unknown, budget: { nodes: number }, open = new Set<object>()): unknown {
  if (++budget.nodes > LIMITS.maxVisits) throw new Error("too many nodes through aliases");
  if (v === null || typeof v !== "object") return v;
  // Kubernetes' YAML decoder rejects a node that contains an alias to itself; so do we.
  if (open.has(v)) throw new Error("a node contains an alias to itself");
  open.add(v);
  let out: unknown;
  if (Array.isArray(v)) out = v.map((x) => unshare(x, budget, open));
  else {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = unshare(x, budget, open);
    out = o;
  }
  open.delete(v);
  return out;
}

function firstDifference(a: unknown, b: unknown, path: Path): Path | undefined {
  if (Object.is(a, b)) return undefined;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return path;
    for (const [i, x] of a.entries()) {
      const d = firstDifference(x, bb[i], [...path, i]);
      if (d) return d;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    if (!(k in ao) || !(k in bo)) return [...path, k];
    const d = firstDifference(ao[k], bo[k], [...path, k]);
    if (d) return d;
  }
  return undefined;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}

function unsafe(file: string, message: string, line?: number, cause?: unknown): PlatformError {
  return new PlatformError(
    "GITOPS_EDIT_UNSAFE",
    `${file}${line ? `:${line}` : ""}: refusing to edit: ${message}`,
    {
      file,
      line,
      cause,
      hint: "Edit this reference by hand once (give the digest its own scalar, without an anchor shared with other values); later bumps will then be byte-exact.",
    },
  );
}
