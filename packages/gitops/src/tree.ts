// A small node tree over js-yaml's event stream: every scalar keeps its exact source range and style, so an
// edit can be spliced into the bytes, and every value can be rebuilt with `constructFromEvents` to check it.
import {
  CORE_SCHEMA,
  constructFromEvents,
  EVENT_ID,
  type Event,
  getScalarValue,
  parseEvents,
  SCALAR_STYLE,
  type ScalarEvent,
  type ScalarStyle,
} from "js-yaml";

/** Same caps as the rest of the platform: alias count per document, nesting depth, documents per file. */
export const LIMITS = { maxAliases: 100, maxDepth: 100, maxDocuments: 1_000, maxVisits: 200_000 };

export interface YScalar {
  kind: "scalar";
  value: string;
  style: ScalarStyle;
  /** Range of the value's characters in the source (inside the quotes); -1 for an empty plain scalar. */
  valueStart: number;
  valueEnd: number;
  /** Range of the whole node as written (quotes included). */
  start: number;
  end: number;
  tagged: boolean;
  anchor?: string;
  /** Block scalars only: the indentation of their content. */
  indent: number;
}
export interface YMap {
  kind: "map";
  pairs: Array<{ key: YNode; value: YNode }>;
  flow: boolean;
  start: number;
  anchor?: string;
}
export interface YSeq {
  kind: "seq";
  items: YNode[];
  flow: boolean;
  start: number;
  anchor?: string;
}
export interface YAlias {
  kind: "alias";
  name: string;
  target: YNode | undefined;
  start: number;
}
export type YNode = YScalar | YMap | YSeq | YAlias;

export interface ParsedYaml {
  text: string;
  events: Event[];
  roots: Array<YNode | undefined>;
}

/** Parses a YAML stream into node trees; throws js-yaml's error on a syntax error. */
export function parseYaml(text: string): ParsedYaml {
  const events = parseEvents(text, { maxDepth: LIMITS.maxDepth });
  const roots: Array<YNode | undefined> = [];
  const anchors = new Map<string, YNode>();
  let i = 0;
  const node = (): YNode => {
    const e = events[i++]!;
    switch (e.type) {
      case EVENT_ID.SCALAR:
        return register(scalarNode(text, e), e.anchorStart, e.anchorEnd);
      case EVENT_ID.ALIAS: {
        const name = text.slice(e.anchorStart, e.anchorEnd);
        return { kind: "alias", name, target: anchors.get(name), start: e.anchorStart - 1 };
      }
      case EVENT_ID.MAPPING: {
        const map: YMap = { kind: "map", pairs: [], flow: e.style === 2, start: e.start };
        register(map, e.anchorStart, e.anchorEnd);
        while (events[i]!.type !== EVENT_ID.POP) map.pairs.push({ key: node(), value: node() });
        i++;
        return map;
      }
      case EVENT_ID.SEQUENCE: {
        const seq: YSeq = { kind: "seq", items: [], flow: e.style === 2, start: e.start };
        register(seq, e.anchorStart, e.anchorEnd);
        while (events[i]!.type !== EVENT_ID.POP) seq.items.push(node());
        i++;
        return seq;
      }
      default:
        throw new Error(`unexpected YAML event ${e.type}`);
    }
  };
  const register = <T extends YNode>(n: T, start: number, end: number): T => {
    if (start >= 0 && n.kind !== "alias") {
      n.anchor = text.slice(start, end);
      anchors.set(n.anchor, n);
    }
    return n;
  };
  while (i < events.length) {
    const e = events[i++]!;
    if (e.type !== EVENT_ID.DOCUMENT) continue;
    anchors.clear();
    roots.push(events[i]!.type === EVENT_ID.POP ? undefined : node());
    i++; // the document's POP
    if (roots.length > LIMITS.maxDocuments) throw new Error(`more than ${LIMITS.maxDocuments} documents`);
  }
  return { text, events, roots };
}

function scalarNode(text: string, e: ScalarEvent): YScalar {
  const block = e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK;
  const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED;
  return {
    kind: "scalar",
    value: getScalarValue(text, e),
    style: e.style,
    valueStart: e.valueStart,
    valueEnd: e.valueEnd,
    start: quoted ? e.valueStart - 1 : e.valueStart,
    end: quoted ? e.valueEnd + 1 : e.valueEnd,
    tagged: e.tagStart >= 0,
    indent: block ? e.indent : -1,
  };
}

/** The plain JS values of every document (the same construction Helm and kubectl would see). */
export function constructValues(parsed: ParsedYaml): unknown[] {
  return constructFromEvents(parsed.events, {
    source: parsed.text,
    schema: CORE_SCHEMA,
    maxAliases: LIMITS.maxAliases,
  });
}

/** Follows aliases to the node they name. */
export function deref(n: YNode | undefined): YScalar | YMap | YSeq | undefined {
  let cur = n;
  for (let hops = 0; cur?.kind === "alias" && hops < 100; hops++) cur = cur.target;
  return cur?.kind === "alias" ? undefined : cur;
}

/** The key → value pairs of a map whose keys are scalars (later duplicates are a parse error anyway). */
export function fields(map: YMap): Map<string, { key: YScalar; value: YNode }> {
  const out = new Map<string, { key: YScalar; value: YNode }>();
  for (const { key, value } of map.pairs) {
    const k = deref(key);
    if (k?.kind === "scalar") out.set(k.value, { key: k, value });
  }
  return out;
}

/** A string-ish scalar (not null): what a field must be to hold a repository, a tag or a digest. */
export function stringScalar(n: YNode | undefined): YScalar | undefined {
  const s = deref(n);
  if (s?.kind !== "scalar") return undefined;
  if (s.style === SCALAR_STYLE.PLAIN && !s.tagged && /^(?:~|null|Null|NULL|)$/.test(s.value))
    return undefined;
  return s;
}
