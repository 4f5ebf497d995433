import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type Parser from "web-tree-sitter";

export type SyntaxNode = Parser.SyntaxNode;
export type Tree = Parser.Tree;

const require = createRequire(import.meta.url);
// Loaded from node_modules at run time, never bundled: its Emscripten loader needs CommonJS `__dirname`.
// Loaded on first use, so a CLI bundle that never checks Bicep does not need it installed.
const WEB_TREE_SITTER = "web-tree-sitter";
let loading: Promise<Parser> | undefined;

/** The path of tree-sitter-bicep's WASM grammar inside node_modules. */
export function grammarPath(): string {
  return join(dirname(require.resolve("tree-sitter-bicep/package.json")), "tree-sitter-bicep.wasm");
}

/** A web-tree-sitter parser for Bicep; the WASM runtime and grammar load once per process. */
export function bicepParser(): Promise<Parser> {
  loading ??= (async () => {
    const TreeSitter = require(WEB_TREE_SITTER) as typeof Parser;
    // Point the runtime at its own tree-sitter.wasm: inside a bundle, "next to the script" is the wrong place.
    const runtime = join(dirname(require.resolve("web-tree-sitter/package.json")), "tree-sitter.wasm");
    await TreeSitter.init({ locateFile: () => runtime });
    const language = await TreeSitter.Language.load(grammarPath());
    const parser = new TreeSitter();
    parser.setLanguage(language);
    return parser;
  })();
  return loading;
}

/**
 * What the grammar was given instead of the source, where it differs: tree-sitter-bicep 1.1.0 (the newest on
 * npm) lags the Bicep compiler. Every rewrite keeps each character's offset, so nodes index the original text.
 */
export interface SourceShim {
  /** The source as written (string contents are read from here, not from the rewritten text). */
  original: string;
  /** Offsets of object properties written as a spread `...expr` (the grammar saw a `__:` key). */
  objectSpreads: Set<number>;
  /** Offsets of array items written as a spread `...expr` (the grammar saw spaces before the item). */
  arraySpreads: Set<number>;
}

const shims = new WeakMap<Tree, SourceShim>();

/** The shim of the tree a node belongs to, if its source was rewritten for the grammar. */
export function shimOf(node: SyntaxNode): SourceShim | undefined {
  return shims.get(node.tree);
}

/** A node's text as written in the source (the grammar may have seen a rewritten copy). */
export function sourceText(node: SyntaxNode): string {
  const shim = shims.get(node.tree);
  return shim ? shim.original.slice(node.startIndex, node.endIndex) : node.text;
}

const IDENT = /[A-Za-z0-9_]/;
const TYPE_REF = /^(resourceInput|resourceOutput)<\s*'[^'\n]*'\s*>((\.[A-Za-z_][A-Za-z0-9_]*)|(\[\*\]))*/;

/**
 * Rewrites, offset for offset, the syntax the grammar cannot read into syntax it can:
 * `//` and `/*` inside strings (read as comments), the spread `...expr` (objects and arrays),
 * `resourceInput<'…'>`/`resourceOutput<'…'>` types (to `object`) and the postfix non-null `!`.
 * Comments and strings are lexed so that nothing inside them is touched.
 */
export function shimBicep(text: string): { text: string; shim: SourceShim } {
  const out = text.split("");
  const shim: SourceShim = { original: text, objectSpreads: new Set(), arraySpreads: new Set() };
  // Open brackets in code ('{', '[', '('), and '$' for an interpolation's '${' (closes back into a string).
  const stack: string[] = [];
  let i = 0;
  const n = text.length;
  const skipString = (): void => {
    // At the opening quote of a single-line string: to just after its closing quote (interpolations are code).
    i++;
    while (i < n) {
      const c = text[i]!;
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "'") {
        i++;
        return;
      }
      if (c === "$" && text[i + 1] === "{") {
        stack.push("$");
        i += 2;
        code(true);
        continue;
      }
      if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) out[i] = "_";
      if (c === "\n") return;
      i++;
    }
  };
  const code = (inInterpolation: boolean): void => {
    while (i < n) {
      const c = text[i]!;
      if (c === "/" && text[i + 1] === "/") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      if (c === "/" && text[i + 1] === "*") {
        const end = text.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (c === "'" && text.startsWith("'''", i)) {
        const end = text.indexOf("'''", i + 3);
        const stop = end < 0 ? n : end;
        for (let k = i + 3; k < stop; k++)
          if (text[k] === "/" && (text[k + 1] === "/" || text[k + 1] === "*")) out[k] = "_";
        i = end < 0 ? n : end + 3;
        continue;
      }
      if (c === "'") {
        skipString();
        continue;
      }
      if (c === "{" || c === "[" || c === "(") stack.push(c);
      else if (c === "}" || c === "]" || c === ")") {
        const top = stack.pop();
        if (top === "$" && inInterpolation) {
          i++;
          return;
        }
      } else if (c === "." && text.startsWith("...", i)) {
        const ctx = [...stack].reverse().find((b) => b !== "(");
        let j = i + 3;
        while (j < n && (text[j] === " " || text[j] === "\t")) j++;
        if (ctx === "{") {
          out[i] = "_";
          out[i + 1] = "_";
          out[i + 2] = ":";
          shim.objectSpreads.add(i);
        } else if (ctx === "[") {
          out[i] = out[i + 1] = out[i + 2] = " ";
          shim.arraySpreads.add(j);
        }
        i += 3;
        continue;
      } else if (c === "!" && i > 0 && /[A-Za-z0-9_)\]']/.test(text[i - 1]!) && text[i + 1] !== "=") {
        out[i] = " ";
      } else if (c === "r" && (i === 0 || !IDENT.test(text[i - 1]!))) {
        const m = TYPE_REF.exec(text.slice(i, i + 400));
        if (m) {
          const len = m[0].length;
          for (let k = 0; k < len; k++) if (out[i + k] !== "\n") out[i + k] = " ";
          out.splice(i, 6, ..."object".split(""));
          i += len;
          continue;
        }
      }
      i++;
    }
  };
  code(false);
  return { text: out.join(""), shim };
}

/** Parse Bicep source text into a tree (tree-sitter recovers from errors: see `syntaxErrors`). */
export async function parseBicep(text: string): Promise<Tree> {
  const shimmed = shimBicep(text);
  const tree = (await bicepParser()).parse(shimmed.text);
  if (shimmed.text !== text) shims.set(tree, shimmed.shim);
  return tree;
}

/** ERROR and MISSING nodes of a tree, outermost first, with 1-based line and column. */
export function syntaxErrors(tree: Tree): { line: number; column: number; message: string }[] {
  const out: { line: number; column: number; message: string }[] = [];
  const visit = (node: SyntaxNode): void => {
    if (!node.hasError && !node.isMissing) return;
    if (node.isError || node.isMissing) {
      const snippet = node.text.split("\n")[0]!.slice(0, 40);
      out.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        message: node.isMissing
          ? `syntax error: missing ${node.type}`
          : `syntax error: unexpected ${snippet ? `'${snippet}'` : "input"}`,
      });
      return;
    }
    for (const child of node.children) visit(child);
  };
  visit(tree.rootNode);
  return out;
}
