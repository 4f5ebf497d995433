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

/** Parse Bicep source text into a tree (tree-sitter recovers from errors: see `syntaxErrors`). */
export async function parseBicep(text: string): Promise<Tree> {
  return (await bicepParser()).parse(text);
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
