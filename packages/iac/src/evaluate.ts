import { type SyntaxNode, shimOf, sourceText } from "./parser.ts";
import { type ArmResource, UnknownValue, type Value } from "./types.ts";

type Loc = { file: string; line: number };
type Obj = { [key: string]: Value };
type Scope = ReadonlyMap<string, Value>;

/** A `module` use: the referenced path (as written), its evaluated `params` object, and its condition. */
export interface ModuleUse {
  symbol: string;
  path: string;
  params: Value;
  condition: boolean | "unknown";
  line: number;
}

/** Source lines of object keys and array items, keyed by the evaluated container; keys lower-cased. */
export type LocationIndex = WeakMap<object, Map<string, Loc>>;

export const isUnknown = (v: Value | undefined): v is UnknownValue => v instanceof UnknownValue;
export const isObject = (v: Value | undefined): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof UnknownValue);

/**
 * Objects whose keys are not all known (a spread of an unknown value, a key known only at deployment, a part
 * the grammar could not read): a key they lack may still be there, so it reads as unknown, never as absent.
 */
const openObjects = new WeakMap<object, UnknownValue>();

/** Marks an object as possibly holding more keys than it shows (see `getProp`). */
export function markOpen<T extends object>(obj: T, why: UnknownValue): T {
  if (!openObjects.has(obj)) openObjects.set(obj, why);
  return obj;
}

/** Why an object may hold more keys than it shows, if it may. */
export const openReason = (v: Value | undefined): UnknownValue | undefined =>
  isObject(v) ? openObjects.get(v) : undefined;

/** Property lookup the way ARM reads JSON: exact key first, then case-insensitive; unknown if it may exist. */
export function getProp(v: Value | undefined, key: string): Value | undefined {
  if (!isObject(v)) return undefined;
  if (Object.hasOwn(v, key)) return v[key];
  const lower = key.toLowerCase();
  const found = Object.keys(v).find((k) => k.toLowerCase() === lower);
  return found === undefined ? openObjects.get(v) : v[found];
}

/** Named children that carry meaning (comments and decorators are skipped). */
function kids(node: SyntaxNode): SyntaxNode[] {
  return node.namedChildren.filter((c) => c.type !== "comment" && c.type !== "decorators");
}

const line = (node: SyntaxNode): number => node.startPosition.row + 1;

const containsUnknown = (v: Value): boolean =>
  isUnknown(v) ||
  (Array.isArray(v) ? v.some(containsUnknown) : isObject(v) ? Object.values(v).some(containsUnknown) : false);

function deepEqual(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]!));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k]!, b[k]!))
    );
  }
  return a === b;
}

function unescapeBicep(raw: string): string {
  const simple: Record<string, string> = {
    "\\'": "'",
    "\\\\": "\\",
    "\\n": "\n",
    "\\r": "\r",
    "\\t": "\t",
    "\\$": "$",
  };
  if (raw in simple) return simple[raw]!;
  const m = /^\\u\{([0-9a-fA-F]+)\}$/.exec(raw);
  return m ? String.fromCodePoint(Number.parseInt(m[1]!, 16)) : raw;
}

/** Pure Bicep functions we can evaluate; anything else (resourceGroup(), uniqueString(), …) is unknown. */
const FUNCTIONS: Record<string, (args: Value[]) => Value | undefined> = {
  tolower: ([s]) => (typeof s === "string" ? s.toLowerCase() : undefined),
  toupper: ([s]) => (typeof s === "string" ? s.toUpperCase() : undefined),
  concat: (args) =>
    args.every((a) => typeof a === "string")
      ? args.join("")
      : args.every(Array.isArray)
        ? (args as Value[][]).flat()
        : undefined,
  empty: ([v]) =>
    v === null
      ? true
      : typeof v === "string" || Array.isArray(v)
        ? v.length === 0
        : isObject(v)
          ? Object.keys(v).length === 0
          : undefined,
  length: ([v]) =>
    typeof v === "string" || Array.isArray(v) ? v.length : isObject(v) ? Object.keys(v).length : undefined,
  contains: ([c, x]) =>
    typeof c === "string" && typeof x === "string"
      ? c.includes(x)
      : Array.isArray(c) && !containsUnknown(c)
        ? c.some((e) => deepEqual(e, x!))
        : isObject(c) && typeof x === "string"
          ? Object.hasOwn(c, x)
          : undefined,
  coalesce: (args) => args.find((a) => a !== null) ?? null,
  string: ([v]) =>
    typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined,
  bool: ([v]) => (typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : undefined),
  range: ([start, count]) =>
    typeof start === "number" && typeof count === "number" && count >= 0 && count <= 10_000
      ? Array.from({ length: count }, (_, i) => start + i)
      : undefined,
  int: ([v]) =>
    typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : undefined,
  array: ([v]) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]),
  any: ([v]) => v,
  json: ([v]) => {
    if (typeof v !== "string") return undefined;
    try {
      return JSON.parse(v) as Value;
    } catch {
      return undefined;
    }
  },
  split: ([s, sep]) =>
    typeof s === "string" && typeof sep === "string"
      ? s.split(sep)
      : typeof s === "string" && Array.isArray(sep) && sep.every((x) => typeof x === "string")
        ? s.split(
            new RegExp((sep as string[]).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")),
          )
        : undefined,
  replace: ([s, from, to]) =>
    typeof s === "string" && typeof from === "string" && typeof to === "string"
      ? s.split(from).join(to)
      : undefined,
  join: ([xs, sep]) =>
    Array.isArray(xs) && typeof sep === "string" && xs.every((x) => typeof x === "string")
      ? xs.join(sep)
      : undefined,
  take: ([v, n]) =>
    typeof n === "number" && (typeof v === "string" || Array.isArray(v))
      ? v.slice(0, Math.max(0, n))
      : undefined,
  skip: ([v, n]) =>
    typeof n === "number" && (typeof v === "string" || Array.isArray(v))
      ? v.slice(Math.max(0, n))
      : undefined,
  first: ([v]) => (typeof v === "string" ? v.slice(0, 1) : Array.isArray(v) ? (v[0] ?? null) : undefined),
  last: ([v]) => (typeof v === "string" ? v.slice(-1) : Array.isArray(v) ? (v.at(-1) ?? null) : undefined),
  flatten: ([v]) =>
    Array.isArray(v) && v.every((x) => Array.isArray(x)) ? (v as Value[][]).flat() : undefined,
  union: (args) => {
    if (args.length > 0 && args.every(isObject))
      return args.reduce((a, b) => mergeObjects(a as Obj, b as Obj));
    if (args.length > 0 && args.every(Array.isArray)) {
      const out: Value[] = [];
      for (const x of (args as Value[][]).flat()) if (!out.some((y) => deepEqual(x, y))) out.push(x);
      return out;
    }
    return undefined;
  },
};

/** ARM's union() of objects: later keys win, nested objects merge recursively (nested arrays do not). */
function mergeObjects(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    // Where `a` may hide the key (an open object), its value may be an object this one merges into.
    const prev = getProp(a, k) === undefined ? undefined : (out[k] ?? getProp(a, k));
    out[k] =
      isObject(prev) && isObject(v)
        ? mergeObjects(prev, v)
        : isUnknown(prev) && isObject(v)
          ? openCopy(v, prev)
          : v;
  }
  const open = openReason(a) ?? openReason(b);
  return open ? markOpen(out, open) : out;
}

/** A deep copy of `v` whose objects may all hold more keys (merged into something unknown). */
function openCopy(v: Obj, why: UnknownValue): Obj {
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = isObject(x) ? openCopy(x, why) : x;
  return markOpen(out, why);
}

/**
 * union() of objects some of which are unknown: what a known object after the last unknown sets is known (later
 * keys win), everything else may have come from the unknown one.
 */
function unionOpen(args: Value[]): Value | undefined {
  let out: Obj = {};
  for (const a of args) {
    if (isUnknown(a)) out = markOpen(Object.fromEntries(Object.keys(out).map((k) => [k, a])), a);
    else if (isObject(a)) out = mergeObjects(out, a);
    else return undefined;
  }
  return out;
}

/** Functions taking a lambda: each gets the evaluated plain arguments and the lambda as a callable. */
type Lambda = (...args: Value[]) => Value;
const LAMBDA_FUNCTIONS: Record<string, (args: Value[], fns: Lambda[]) => Value | undefined> = {
  map: ([xs], [f]) => (Array.isArray(xs) && f ? xs.map((x, i) => f(x, i)) : undefined),
  filter: ([xs], [f]) => {
    if (!Array.isArray(xs) || !f) return undefined;
    const keep = xs.map((x, i) => f(x, i));
    if (keep.some((k) => typeof k !== "boolean")) return undefined;
    return xs.filter((_, i) => keep[i] === true);
  },
  reduce: ([xs, init], [f]) => {
    if (!Array.isArray(xs) || init === undefined || !f) return undefined;
    let acc = init;
    for (const [i, x] of xs.entries()) {
      acc = f(acc, x, i);
      if (isUnknown(acc)) return acc;
    }
    return acc;
  },
  toobject: ([xs], [key, value]) => {
    if (!Array.isArray(xs) || !key) return undefined;
    const out: Obj = {};
    for (const x of xs) {
      const k = key(x);
      if (typeof k !== "string") return undefined;
      out[k] = value ? value(x) : x;
    }
    return out;
  },
};

/** Reads a file named in a Bicep file (`loadJsonContent`, `loadTextContent`), or says why it cannot. */
export type FileLoader = (path: string, line: number) => string | UnknownValue;

/** The part of a JSON document a Bicep jsonPath (`$`, `.key`, `['key']`, `[n]`) selects; undefined for other forms. */
function selectJsonPath(doc: Value, path: string): Value | undefined {
  if (!path.startsWith("$")) return undefined;
  let rest = path.slice(1);
  let current: Value | undefined = doc;
  while (rest.length > 0 && current !== undefined) {
    const m = /^\.([A-Za-z_$][\w$-]*)|^\['([^']*)'\]|^\[(\d+)\]/.exec(rest);
    if (!m) return undefined;
    if (m[3] !== undefined) current = Array.isArray(current) ? current[Number(m[3])] : undefined;
    else current = getProp(current, (m[1] ?? m[2])!);
    rest = rest.slice(m[0].length);
  }
  return current;
}

/**
 * `resourceId([subscriptionId, [resourceGroup,]] type, name1, name2, …)`: the id is known only at deployment
 * (subscription, group), but the type and name it points at often are; they ride along as the unknown's `ref`.
 */
function resourceIdRef(fn: string, args: Value[]): UnknownValue {
  const at = args.findIndex((a) => typeof a === "string" && /^[A-Za-z0-9]+\.[A-Za-z0-9.]+\/./.test(a));
  const names = at < 0 ? [] : args.slice(at + 1);
  if (at < 0 || names.length === 0) return new UnknownValue(`${fn}() is known only at deployment`);
  const unknown = names.find(isUnknown);
  const name = unknown ?? (names.every((n) => typeof n === "string") ? names.join("/") : undefined);
  return new UnknownValue(`${fn}() is known only at deployment`, {
    type: args[at] as string,
    name: name ?? new UnknownValue("resource name is not a string"),
  });
}

/** Evaluates one parsed Bicep file statically: params, vars, expressions and resource declarations. */
export class BicepEvaluator {
  readonly file: string;
  readonly locations: LocationIndex = new WeakMap();
  private readonly params = new Map<string, SyntaxNode>();
  private readonly vars = new Map<string, SyntaxNode>();
  private readonly resourceDecls = new Map<string, SyntaxNode>();
  private readonly moduleDecls: [string, SyntaxNode][] = [];
  private readonly cache = new Map<string, Value>();
  private readonly evaluating = new Set<string>();
  private readonly paramValues: ReadonlyMap<string, Value>;
  private readonly loader: FileLoader | undefined;

  constructor(
    file: string,
    root: SyntaxNode,
    paramValues: ReadonlyMap<string, Value> = new Map(),
    loader?: FileLoader,
  ) {
    this.file = file;
    this.paramValues = paramValues;
    this.loader = loader;
    for (const decl of kids(root)) {
      const name = kids(decl)[0];
      if (name?.type !== "identifier") continue;
      if (decl.type === "parameter_declaration") this.params.set(name.text, decl);
      else if (decl.type === "variable_declaration") this.vars.set(name.text, decl);
      else if (decl.type === "resource_declaration") this.resourceDecls.set(name.text, decl);
      else if (decl.type === "module_declaration") this.moduleDecls.push([name.text, decl]);
    }
  }

  /** Names of the `param`s this file declares. */
  paramNames(): string[] {
    return [...this.params.keys()];
  }

  /** The value of a top-level `param` or `var`, or unknown. */
  symbol(name: string): Value {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    if (this.evaluating.has(name)) return new UnknownValue(`'${name}' refers to itself`);
    this.evaluating.add(name);
    let value: Value;
    try {
      value = this.resolve(name);
    } finally {
      this.evaluating.delete(name);
    }
    this.cache.set(name, value);
    return value;
  }

  private resolve(name: string): Value {
    const param = this.params.get(name);
    if (param) {
      if (this.paramValues.has(name)) return this.paramValues.get(name)!;
      // ARM matches parameter names case-insensitively (a parameters file's `aksX` sets `AksX`).
      const lower = name.toLowerCase();
      for (const [k, v] of this.paramValues) if (k.toLowerCase() === lower) return v;
      const dflt = kids(param)[2];
      if (dflt) return this.eval(dflt);
      // A nullable-typed parameter (`param p string?`) that nobody sets is null.
      const type = kids(param)[1];
      const nullable = type?.type === "nullable_type" || kids(type ?? param)[0]?.type === "nullable_type";
      return nullable ? null : new UnknownValue(`parameter '${name}' has no default and no value`);
    }
    const v = this.vars.get(name);
    if (v) {
      const expr = kids(v).at(-1);
      return expr && expr !== kids(v)[0]
        ? this.eval(expr)
        : new UnknownValue(`variable '${name}' has no value`);
    }
    const res = this.resourceDecls.get(name);
    if (res) return new UnknownValue(`reference to resource '${name}'`);
    return new UnknownValue(`'${name}' is not a param, var or resource of this file`);
  }

  /** Evaluate an expression node; never throws, unknown where not statically knowable. */
  eval(node: SyntaxNode, scope?: Scope): Value {
    switch (node.type) {
      case "string":
        return this.evalString(node, scope);
      case "number":
        return Number.parseInt(node.text, 10);
      case "boolean":
        return node.text === "true";
      case "null":
        return null;
      case "parenthesized_expression": {
        const inner = kids(node)[0];
        return inner ? this.eval(inner, scope) : new UnknownValue("empty parentheses");
      }
      case "identifier":
        if (scope?.has(node.text)) return scope.get(node.text)!;
        return this.symbol(node.text);
      case "object":
        return this.evalObject(node, scope);
      case "array": {
        const out: Value[] = [];
        const locs = new Map<string, Loc>();
        const spreads = shimOf(node)?.arraySpreads;
        for (const item of kids(node)) {
          if (item.type === "ERROR")
            return new UnknownValue(`${this.file}:${line(item)}: part of this array could not be parsed`);
          const v = this.eval(item, scope);
          if (spreads?.has(item.startIndex)) {
            // `...expr`: its items, in place; an unknown spread leaves the length and contents unknown.
            if (!Array.isArray(v))
              return isUnknown(v) ? v : new UnknownValue(`spread of a non-array: ${item.text}`);
            for (const x of v) {
              locs.set(String(out.length), { file: this.file, line: line(item) });
              out.push(x);
            }
            continue;
          }
          locs.set(String(out.length), { file: this.file, line: line(item) });
          out.push(v);
        }
        this.locations.set(out, locs);
        return out;
      }
      case "member_expression":
        return this.evalMember(node, scope);
      case "subscript_expression": {
        const obj = this.eval(node.childForFieldName("object")!, scope);
        const index = this.eval(node.childForFieldName("index")!, scope);
        if (isUnknown(obj)) return obj;
        if (isUnknown(index)) return index;
        if (Array.isArray(obj) && typeof index === "number")
          return obj[index] ?? new UnknownValue(`index ${index} out of range`);
        if (isObject(obj) && typeof index === "string")
          return getProp(obj, index) ?? new UnknownValue(`no property '${index}'`);
        return new UnknownValue(`cannot index ${node.text}`);
      }
      case "ternary_expression": {
        const cond = this.eval(node.childForFieldName("condition")!, scope);
        if (typeof cond !== "boolean")
          return new UnknownValue(`condition '${node.childForFieldName("condition")!.text}' is not known`);
        return this.eval(node.childForFieldName(cond ? "consequence" : "alternative")!, scope);
      }
      case "unary_expression": {
        const op = node.child(0)?.type;
        const arg = this.eval(node.childForFieldName("argument") ?? kids(node)[0]!, scope);
        if (op === "!" && typeof arg === "boolean") return !arg;
        if (op === "-" && typeof arg === "number") return -arg;
        return isUnknown(arg) ? arg : new UnknownValue(`cannot evaluate ${node.text}`);
      }
      case "binary_expression":
        return this.evalBinary(node, scope);
      case "call_expression":
        return this.evalCall(node, scope);
      case "for_statement":
        return this.evalFor(node, scope, (body, s) => this.eval(body, s));
      default:
        return new UnknownValue(`${node.type} is not evaluated statically`);
    }
  }

  private evalString(node: SyntaxNode, scope?: Scope): Value {
    const multiline = node.child(0)?.type === "'''";
    let out = "";
    for (const part of node.namedChildren) {
      if (part.type === "string_content") out += sourceText(part);
      else if (part.type === "escape_sequence")
        out += multiline ? sourceText(part) : unescapeBicep(sourceText(part));
      else if (part.type === "interpolation") {
        const inner = kids(part)[0];
        const v = inner ? this.eval(inner, scope) : new UnknownValue("empty interpolation");
        if (isUnknown(v)) return new UnknownValue(`interpolation \${${inner?.text ?? ""}}: ${v.reason}`);
        if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out += String(v);
        else return new UnknownValue(`interpolation of a non-scalar in ${node.text}`);
      }
    }
    // Bicep drops a newline right after the opening ''' of a multi-line string.
    return multiline ? out.replace(/^\r?\n/, "") : out;
  }

  private evalObject(node: SyntaxNode, scope?: Scope): Value {
    let out: Obj = {};
    let locs = new Map<string, Loc>();
    let open: UnknownValue | undefined;
    const spreads = shimOf(node)?.objectSpreads;
    for (const prop of kids(node)) {
      if (prop.type === "ERROR") {
        open ??= new UnknownValue(`${this.file}:${line(prop)}: part of this object could not be parsed`);
        continue;
      }
      if (prop.type !== "object_property") continue;
      const [keyNode, valueNode] = kids(prop);
      if (!keyNode || !valueNode || keyNode.type === "resource_declaration") continue;
      if (spreads?.has(prop.startIndex)) {
        // `...expr`: its keys, in order (later keys win). Unknown: any key may be set, or overwritten.
        const spread = this.eval(valueNode, scope);
        if (isObject(spread)) {
          for (const [k, v] of Object.entries(spread)) {
            for (const existing of Object.keys(out))
              if (existing.toLowerCase() === k.toLowerCase()) delete out[existing];
            out[k] = v;
            locs.set(k.toLowerCase(), { file: this.file, line: line(prop) });
          }
          open ??= openReason(spread);
        } else if (spread !== null) {
          const why = isUnknown(spread)
            ? spread
            : new UnknownValue(`spread of a non-object at line ${line(prop)}`);
          out = Object.fromEntries(Object.keys(out).map((k) => [k, why]));
          locs = new Map([...locs].map(([k]) => [k, { file: this.file, line: line(prop) }]));
          open ??= why;
        }
        continue;
      }
      const key = keyNode.type === "string" ? this.eval(keyNode, scope) : keyNode.text;
      if (typeof key !== "string") {
        open ??= isUnknown(key) ? key : new UnknownValue(`object key ${keyNode.text} is not a string`);
        continue;
      }
      out[key] = this.eval(valueNode, scope);
      locs.set(key.toLowerCase(), { file: this.file, line: line(prop) });
    }
    this.locations.set(out, locs);
    return open ? markOpen(out, open) : out;
  }

  private evalMember(node: SyntaxNode, scope?: Scope): Value {
    const objNode = node.childForFieldName("object")!;
    const prop = node.childForFieldName("property")?.text ?? "";
    const safe = node.children.some((c) => c.type === ".?");
    // `sym.name`, `sym.id`, and `sym[i].…` of a looped declaration: the name is often known, the rest is not.
    const target = this.resourceTarget(objNode, scope);
    if (target) {
      const { decl, symbol } = target;
      const name = target.name ?? new UnknownValue(`name of resource '${symbol}'`);
      if (prop === "name") return name;
      if (prop === "id") {
        const typeNode = kids(decl)[1];
        const type = typeNode?.type === "string" ? this.eval(typeNode) : undefined;
        if (typeof type === "string" && type.split("@")[0]!.includes("/"))
          return new UnknownValue(`${node.text} is known only at deployment`, {
            type: type.split("@")[0]!,
            name,
            ...(objNode.type === "identifier" ? { symbol: { name: symbol, file: this.file } } : {}),
          });
      }
      return new UnknownValue(`${node.text} is known only at deployment`);
    }
    const obj = this.eval(objNode, scope);
    if (isUnknown(obj)) return obj;
    if (obj === null && safe) return null;
    if (!isObject(obj)) return new UnknownValue(`${node.text}: not an object`);
    const v = getProp(obj, prop);
    if (v === undefined) return safe ? null : new UnknownValue(`${node.text}: no property '${prop}'`);
    return v;
  }

  /** A resource symbol (`sym`) or one element of a resource loop (`sym[i]`), with its name when known. */
  private resourceTarget(
    node: SyntaxNode,
    scope: Scope | undefined,
  ): { decl: SyntaxNode; symbol: string; name: Value | undefined } | undefined {
    const isResource = (n: SyntaxNode | null): boolean =>
      n?.type === "identifier" && !scope?.has(n.text) && this.resourceDecls.has(n.text);
    if (isResource(node)) {
      const decl = this.resourceDecls.get(node.text)!;
      const names = this.declNames(node.text, decl);
      return { decl, symbol: node.text, name: Array.isArray(names) ? undefined : names };
    }
    const objNode = node.type === "subscript_expression" ? node.childForFieldName("object") : null;
    if (!objNode || !isResource(objNode)) return undefined;
    const decl = this.resourceDecls.get(objNode.text)!;
    const index = this.eval(node.childForFieldName("index")!, scope);
    const names = this.declNames(objNode.text, decl);
    if (kids(decl).at(-1)?.type !== "for_statement" || typeof index !== "number")
      return { decl, symbol: objNode.text, name: undefined };
    return { decl, symbol: objNode.text, name: Array.isArray(names) ? (names[index] ?? undefined) : names };
  }

  private readonly nameCache = new Map<string, Value | undefined>();

  /**
   * The `name` of a top-level resource declaration (an array of names for a loop), evaluated once in the file's
   * own scope: only the name property, not the whole body.
   */
  private declNames(symbol: string, decl: SyntaxNode): Value | undefined {
    if (this.nameCache.has(symbol)) return this.nameCache.get(symbol);
    const nameOf = (body: SyntaxNode | undefined, s: Scope | undefined): Value | undefined => {
      while (body?.type === "if_statement") body = kids(body).at(-1);
      if (body?.type !== "object") return undefined;
      const prop = kids(body).find((p) => p.type === "object_property" && kids(p)[0]?.text === "name");
      const value = prop ? kids(prop)[1] : undefined;
      return value ? this.eval(value, s) : undefined;
    };
    const loop = kids(decl).at(-1);
    this.nameCache.set(symbol, new UnknownValue(`name of resource '${symbol}' refers to itself`));
    const names =
      loop?.type === "for_statement"
        ? this.evalFor(loop, undefined, (body, s) => nameOf(body, s) ?? null)
        : nameOf(loop, undefined);
    this.nameCache.set(symbol, names);
    return names;
  }

  private evalBinary(node: SyntaxNode, scope?: Scope): Value {
    const op = node.children.find((c, i) => i > 0 && !c.isNamed)?.type ?? "";
    const left = this.eval(node.childForFieldName("left")!, scope);
    // Short-circuit where the left side alone decides.
    if (op === "&&" && left === false) return false;
    if (op === "||" && left === true) return true;
    if (op === "??" && !isUnknown(left) && left !== null) return left;
    const right = this.eval(node.childForFieldName("right")!, scope);
    if (op === "??") return isUnknown(left) ? left : right;
    if (op === "&&" && right === false) return false;
    if (op === "||" && right === true) return true;
    if (containsUnknown(left))
      return isUnknown(left) ? left : new UnknownValue(`operand of ${node.text} is not known`);
    if (containsUnknown(right))
      return isUnknown(right) ? right : new UnknownValue(`operand of ${node.text} is not known`);
    const ci = (v: Value): Value => (typeof v === "string" ? v.toLowerCase() : v);
    switch (op) {
      case "==":
        return deepEqual(left, right);
      case "!=":
        return !deepEqual(left, right);
      case "=~":
        return deepEqual(ci(left), ci(right));
      case "!~":
        return !deepEqual(ci(left), ci(right));
      case "&&":
      case "||":
        if (typeof left === "boolean" && typeof right === "boolean")
          return op === "&&" ? left && right : left || right;
        break;
      default:
        if (typeof left === "number" && typeof right === "number") {
          const r = {
            "+": left + right,
            "-": left - right,
            "*": left * right,
            "/": right === 0 ? undefined : Math.trunc(left / right),
            "%": right === 0 ? undefined : left % right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
          }[op];
          if (r !== undefined) return r;
        }
    }
    return new UnknownValue(`cannot evaluate ${node.text}`);
  }

  private evalCall(node: SyntaxNode, scope?: Scope): Value {
    const fn = node.childForFieldName("function");
    const name = (fn?.type === "member_expression" ? fn.childForFieldName("property")?.text : fn?.text) ?? "";
    const impl = FUNCTIONS[name.toLowerCase()];
    const argsNode = node.childForFieldName("arguments") ?? kids(node).find((k) => k.type === "arguments");
    const argNodes = argsNode ? kids(argsNode) : [];
    const withLambda = LAMBDA_FUNCTIONS[name.toLowerCase()];
    if (withLambda) {
      const plain = argNodes.filter((a) => a.type !== "lambda_expression").map((a) => this.eval(a, scope));
      const fns = argNodes.filter((a) => a.type === "lambda_expression").map((a) => this.lambda(a, scope));
      const unknown = plain.find(isUnknown);
      if (unknown) return unknown;
      const v = withLambda(plain, fns);
      return v === undefined ? new UnknownValue(`cannot evaluate ${name}() statically`) : v;
    }
    const args = argNodes.map((a) => this.eval(a, scope));
    if (/^(resourceId|subscriptionResourceId|tenantResourceId)$/i.test(name))
      return resourceIdRef(name, args);
    if (/^(loadJsonContent|loadTextContent)$/i.test(name)) return this.loadFile(name, args, line(node));
    if (name.toLowerCase() === "union" && args.some(isUnknown) && !args.some(Array.isArray)) {
      const open = unionOpen(args);
      if (open !== undefined) return open;
    }
    if (!impl) return new UnknownValue(`${name}() is known only at deployment`);
    const unknown = args.find(isUnknown);
    if (unknown) return unknown;
    const v = impl(args);
    return v === undefined ? new UnknownValue(`cannot evaluate ${node.text}`) : v;
  }

  /** `x => body` or `(x, i) => body` as a function of its arguments, closing over the scope it is written in. */
  private lambda(node: SyntaxNode, scope: Scope | undefined): Lambda {
    const [head, body] = kids(node);
    const names = head?.type === "identifier" ? [head.text] : head ? kids(head).map((k) => k.text) : [];
    return (...args) => {
      if (!body) return new UnknownValue("lambda without a body");
      const inner = new Map(scope ?? []);
      names.forEach((n, i) => {
        inner.set(n, args[i] ?? new UnknownValue(`lambda argument '${n}'`));
      });
      return this.eval(body, inner);
    };
  }

  /** `loadJsonContent(path, [jsonPath])` / `loadTextContent(path)`: read at compile time, like the Bicep compiler does. */
  private loadFile(name: string, args: Value[], at: number): Value {
    const [path, jsonPath] = args;
    if (typeof path !== "string") return new UnknownValue(`${name}() path is not a literal`);
    if (!this.loader) return new UnknownValue(`${name}('${path}') is not read here`);
    const text = this.loader(path, at);
    if (isUnknown(text)) return text;
    if (name.toLowerCase() === "loadtextcontent") return text;
    let doc: Value;
    try {
      doc = JSON.parse(text) as Value;
    } catch (e) {
      return new UnknownValue(`${name}('${path}'): invalid JSON (${(e as Error).message})`);
    }
    if (jsonPath === undefined) return doc;
    if (typeof jsonPath !== "string") return new UnknownValue(`${name}() jsonPath is not a literal`);
    return (
      selectJsonPath(doc, jsonPath) ?? new UnknownValue(`${name}('${path}', '${jsonPath}') selects nothing`)
    );
  }

  /** The loop's variable names: `x` for `for x in`, `[x, i]` for `for (x, i) in`; undefined for other forms. */
  private loopNames(node: SyntaxNode): { item: string; index?: string } | undefined {
    const init = this.loopHead(node);
    if (init?.type === "identifier") return { item: init.text };
    if (init?.type !== "for_loop_parameters") return undefined;
    const item = kids(init).find((k) => k.type === "loop_variable")?.text;
    const index = kids(init).find((k) => k.type === "loop_enumerator")?.text;
    return item ? { item, ...(index ? { index } : {}) } : undefined;
  }

  /** The loop variable part: `x` (the `initializer` field) or `(x, i)` (a for_loop_parameters node). */
  private loopHead(node: SyntaxNode): SyntaxNode | undefined {
    return node.childForFieldName("initializer") ?? kids(node).find((k) => k.type === "for_loop_parameters");
  }

  /** `[for x in xs: body]` and `[for (x, i) in xs: body]` over a known array (`i` is the 0-based index). */
  private evalFor<T>(
    node: SyntaxNode,
    scope: Scope | undefined,
    each: (body: SyntaxNode, s: Scope) => T,
  ): T[] | UnknownValue {
    const init = this.loopHead(node);
    const body = node.childForFieldName("body");
    const names = this.loopNames(node);
    const iterable = kids(node).find((p, i) => i > 0 && p !== body && p !== init);
    if (!names || !body || !iterable)
      return new UnknownValue(`loop form not evaluated: ${node.text.split("\n")[0]}`);
    const items = this.eval(iterable, scope);
    if (!Array.isArray(items)) return isUnknown(items) ? items : new UnknownValue("loop over a non-array");
    return items.map((item, i) => {
      const inner = new Map([...(scope ?? []), [names.item, item]]);
      if (names.index) inner.set(names.index, i);
      return each(body, inner);
    });
  }

  /** Every resource declared in the file (top-level and nested children), evaluated to ARM shape. */
  resources(): ArmResource[] {
    const out: ArmResource[] = [];
    for (const [symbol, decl] of this.resourceDecls)
      this.declareResource(symbol, decl, undefined, undefined, true, out);
    // `parent: sym` and `scope: sym` link a top-level declaration to another resource of this file; `sym[i]`
    // links to the loop element of that name.
    const bySymbol = new Map<string, ArmResource>();
    for (const r of out) if (!r.parent && !bySymbol.has(r.symbol)) bySymbol.set(r.symbol, r);
    for (const [res, key, sym, element] of this.links) {
      const target =
        element === undefined
          ? bySymbol.get(sym)
          : typeof element === "string"
            ? out.find((r) => !r.parent && r.symbol === sym && r.name === element)
            : undefined;
      if (!target) continue;
      if (key === "scope") res.scope = target;
      else {
        res.parent = target;
        const own = getProp(res.body, "name");
        res.name =
          typeof target.name === "string" && typeof own === "string"
            ? `${target.name}/${own}`
            : new UnknownValue(`name of a child of '${sym}' is not known`);
      }
    }
    this.links.length = 0;
    return out;
  }

  /** Pending `parent:`/`scope:` links: resource, key, target symbol, and for `sym[i]` the element's name. */
  private readonly links: [ArmResource, "parent" | "scope", string, Value?][] = [];

  /** The static paths of every `module` declaration, whatever its condition or loop. */
  modulePaths(): { path: string; line: number }[] {
    const out: { path: string; line: number }[] = [];
    for (const [, decl] of this.moduleDecls) {
      const pathNode = kids(decl)[1];
      const path = pathNode?.type === "string" ? this.eval(pathNode) : undefined;
      if (typeof path === "string") out.push({ path, line: line(decl) });
    }
    return out;
  }

  /** Every `module` declaration with a static path, expanded over known loops; params evaluated. */
  modules(): ModuleUse[] {
    const out: ModuleUse[] = [];
    for (const [symbol, decl] of this.moduleDecls) {
      const pathNode = kids(decl)[1];
      const path = pathNode?.type === "string" ? this.eval(pathNode) : undefined;
      if (typeof path !== "string") continue;
      this.walkBody(kids(decl).at(-1), undefined, true, (node, sc, cond) => {
        const body = this.eval(node, sc);
        out.push({
          symbol,
          path,
          params: isObject(body) ? (getProp(body, "params") ?? {}) : {},
          condition: cond,
          line: line(decl),
        });
      });
    }
    return out;
  }

  private declareResource(
    symbol: string,
    decl: SyntaxNode,
    scope: Scope | undefined,
    parent: ArmResource | undefined,
    condition: boolean | "unknown",
    out: ArmResource[],
  ): void {
    const typeNode = kids(decl)[1];
    const typeValue = typeNode?.type === "string" ? this.eval(typeNode) : undefined;
    const [rawType = "", apiVersion = ""] = typeof typeValue === "string" ? typeValue.split("@") : [];
    const type = parent ? `${parent.type}/${rawType}` : rawType;
    const existing = decl.children.some((c) => c.type === "existing");
    const emit = (body: SyntaxNode, s: Scope | undefined, cond: boolean | "unknown"): void => {
      const value = this.eval(body, s);
      const bodyObj: Obj = isObject(value) ? value : {};
      const ownName = getProp(bodyObj, "name") ?? new UnknownValue("resource has no name");
      const name =
        parent && typeof parent.name === "string" && typeof ownName === "string"
          ? `${parent.name}/${ownName}`
          : parent
            ? new UnknownValue("child resource name depends on an unknown parent name")
            : ownName;
      const resource: ArmResource = {
        symbol,
        type,
        apiVersion: apiVersion || parent?.apiVersion || "",
        name,
        properties: getProp(bodyObj, "properties") ?? null,
        body: bodyObj,
        condition: cond,
        existing,
        ...(parent ? { parent } : {}),
        file: this.file,
        line: line(decl),
        locate: (path) => this.locate(bodyObj, path, { file: this.file, line: line(decl) }),
      };
      out.push(resource);
      for (const prop of kids(body)) {
        const [key, val] = kids(prop);
        if (
          prop.type === "object_property" &&
          (key?.text === "parent" || key?.text === "scope") &&
          val?.type === "identifier" &&
          !s?.has(val.text) &&
          this.resourceDecls.has(val.text)
        )
          this.links.push([resource, key.text as "parent" | "scope", val.text]);
        else if (
          prop.type === "object_property" &&
          (key?.text === "parent" || key?.text === "scope") &&
          val?.type === "subscript_expression"
        ) {
          const target = this.resourceTarget(val, s);
          if (target)
            this.links.push([
              resource,
              key.text as "parent" | "scope",
              target.symbol,
              target.name ?? new UnknownValue(`name of '${val.text}'`),
            ]);
        }
      }
      for (const prop of kids(body)) {
        const child = kids(prop)[0];
        if (prop.type === "object_property" && child?.type === "resource_declaration") {
          const childName = kids(child)[0]?.text ?? "";
          this.declareResource(childName, child, s, resource, cond, out);
        }
      }
    };
    this.walkBody(kids(decl).at(-1), scope, condition, emit);
  }

  /**
   * Walks a declaration's body — an object, `if (cond) {…}` or `[for … in …: {…}]` — calling `leaf` for each
   * object with its scope and whether it is deployed (true, or "unknown" when a condition or loop is not known).
   */
  private walkBody(
    node: SyntaxNode | undefined,
    s: Scope | undefined,
    cond: boolean | "unknown",
    leaf: (node: SyntaxNode, s: Scope | undefined, cond: boolean | "unknown") => void,
  ): void {
    if (!node) return;
    if (node.type === "object") {
      leaf(node, s, cond);
    } else if (node.type === "if_statement") {
      const [test, body] = kids(node);
      const c = test ? this.eval(test, s) : new UnknownValue("no condition");
      // A false condition means the resource is provably not deployed.
      if (c !== false) this.walkBody(body, s, c === true ? cond : "unknown", leaf);
    } else if (node.type === "for_statement") {
      const expanded = this.evalFor(node, s, (body, inner) => {
        this.walkBody(body, inner, cond, leaf);
        return null;
      });
      // An unknown iterable still describes the shape: walk the body once with the loop variable unknown.
      if (isUnknown(expanded)) {
        const names = this.loopNames(node);
        const loopScope = new Map(s ?? []);
        for (const n of [names?.item, names?.index])
          if (n) loopScope.set(n, new UnknownValue(`loop variable '${n}'`));
        this.walkBody(node.childForFieldName("body") ?? undefined, loopScope, "unknown", leaf);
      }
    }
  }

  private locate(body: Obj, path: readonly string[], fallback: Loc): Loc {
    let best = fallback;
    let current: Value | undefined = body;
    for (const seg of path) {
      if (typeof current !== "object" || current === null || isUnknown(current)) break;
      const loc = this.locations.get(current)?.get(seg.toLowerCase());
      if (loc) best = loc;
      current = Array.isArray(current) ? current[Number(seg)] : getProp(current, seg);
    }
    return best;
  }
}
