import {
  type Document,
  isCollection,
  isMap,
  isNode,
  isScalar,
  LineCounter,
  type Node,
  parseAllDocuments,
} from "yaml";
import { PlatformError } from "./errors.ts";

/** Limits for untrusted YAML: alias expansion, number of documents, and size. */
export interface YamlLimits {
  maxBytes?: number;
  maxDocuments?: number;
  maxAliasCount?: number;
}

export const DEFAULT_YAML_LIMITS: Required<YamlLimits> = {
  maxBytes: 16 * 1024 * 1024,
  maxDocuments: 10_000,
  maxAliasCount: 100,
};

export interface YamlDoc {
  /** 0-based index of the document in its stream. */
  index: number;
  doc: Document.Parsed;
  /** Plain JS value (integers as bigint, so CEL sees int and double apart). */
  value: unknown;
  /** 1-based line of the document's first content. */
  line: number;
  errors: Array<{ message: string; line: number; column: number }>;
}

export interface YamlStream {
  docs: YamlDoc[];
  lineCounter: LineCounter;
  /**
   * Position of a path inside a document: of the deepest existing node along it (the document start at
   * worst); `exact` says whether the whole path exists.
   */
  position(
    doc: YamlDoc,
    path: ReadonlyArray<string | number>,
    opts?: { key?: boolean },
  ): { line: number; column: number; exact: boolean };
}

/** Parses a multi-document YAML stream with limits; syntax errors are reported per document, never thrown. */
export function parseYamlStream(text: string, file: string, limits: YamlLimits = {}): YamlStream {
  const l = { ...DEFAULT_YAML_LIMITS, ...limits };
  if (Buffer.byteLength(text) > l.maxBytes) {
    throw new PlatformError("YAML_TOO_LARGE", `${file} is larger than ${l.maxBytes} bytes`, {
      file,
      hint: "Split the file, or check that the path points at manifests and not at a data file.",
    });
  }
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    lineCounter,
    intAsBigInt: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const list = Array.isArray(parsed) ? parsed : [];
  if (list.length > l.maxDocuments) {
    throw new PlatformError(
      "YAML_TOO_MANY_DOCUMENTS",
      `${file} holds ${list.length} documents, more than the limit of ${l.maxDocuments}`,
      {
        file,
        hint: "Split the stream into several files; a stream this large is more likely generated data than manifests.",
      },
    );
  }
  const posOf = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const docs: YamlDoc[] = list.map((doc, index) => {
    const errors = doc.errors.map((e) => ({
      message: e.message.split("\n")[0] ?? e.message,
      ...posOf(e.pos[0]),
    }));
    let value: unknown = null;
    if (errors.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: l.maxAliasCount });
      } catch (err) {
        errors.push({ message: (err as Error).message, ...posOf(doc.range[0]) });
      }
    }
    const start =
      doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : doc.range[0];
    return { index, doc, value, line: posOf(start).line, errors };
  });
  return {
    docs,
    lineCounter,
    position(d, path, opts) {
      const { node, depth } = nodeAt(d.doc, path, opts?.key ?? false);
      const offset = node?.range?.[0] ?? (d.doc.contents as Node | null)?.range?.[0] ?? d.doc.range[0];
      return { ...posOf(offset), exact: depth === path.length };
    },
  };
}

/** The deepest existing node along `path` (so a missing field points at its parent) and how deep it is. */
function nodeAt(
  doc: Document.Parsed,
  path: ReadonlyArray<string | number>,
  wantKey: boolean,
): { node: Node | undefined; depth: number } {
  let node: unknown = doc.contents;
  let last: Node | undefined = isNode(node) ? node : undefined;
  let depth = 0;
  for (const [i, key] of path.entries()) {
    if (!isCollection(node)) break;
    if (wantKey && i === path.length - 1 && isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (pair && isNode(pair.key)) return { node: pair.key, depth: depth + 1 };
    }
    const next = node.get(key, true);
    if (!isNode(next)) break;
    node = next;
    last = next;
    depth++;
  }
  return { node: last, depth };
}
