import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { BicepEvaluator, isObject } from "./evaluate.ts";
import { parseBicep, syntaxErrors } from "./parser.ts";
import { evaluateRules } from "./rules.ts";
import {
  type ArmResource,
  type CheckOptions,
  type CheckResult,
  type IacFinding,
  UnknownValue,
  type Value,
} from "./types.ts";

const rel = (root: string, abs: string): string => relative(root, abs).split("\\").join("/");

const errorFinding = (
  rule: string,
  file: string,
  line: number,
  message: string,
  column?: number,
): IacFinding => ({
  rule,
  severity: "error",
  verdict: "error",
  message,
  file,
  line,
  ...(column ? { column } : {}),
});

/** Parameter values from a parameters file, and the .bicep it is `using` (bicepparam only). */
export interface ParameterSet {
  values: Map<string, Value>;
  using?: string;
}

/** Read a `.bicepparam` (evaluated with the same evaluator) or an ARM parameters JSON file. */
export async function loadParameters(
  abs: string,
  root: string,
): Promise<{ params: ParameterSet; findings: IacFinding[] }> {
  const file = rel(root, abs);
  const text = await readFile(abs, "utf8");
  const values = new Map<string, Value>();
  if (!abs.endsWith(".bicepparam")) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return {
        params: { values },
        findings: [errorFinding("Platform.IaC.ParseError", file, 1, `invalid JSON: ${(e as Error).message}`)],
      };
    }
    const params = isObject(doc as Value) ? (doc as { parameters?: unknown }).parameters : undefined;
    for (const [name, entry] of Object.entries(
      isObject(params as Value) ? (params as Record<string, unknown>) : {},
    )) {
      const e = entry as { value?: Value; reference?: unknown };
      values.set(
        name,
        e && "value" in e
          ? (e.value as Value)
          : new UnknownValue(`parameter '${name}' is a Key Vault reference`),
      );
    }
    return { params: { values }, findings: [] };
  }
  // The grammar has no .bicepparam rule: `param x = v` parses only as a declaration with an ERROR.
  // Rewriting `param` to `var` (padded, so columns stay put) lets the evaluator read the assignments.
  const names: string[] = [];
  const rewritten = text.replace(
    /^([ \t]*)param(\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*=)/gm,
    (_m, ind, sp, name, eq) => {
      names.push(name);
      return `${ind}var  ${sp}${name}${eq}`;
    },
  );
  const tree = await parseBicep(rewritten);
  const findings = syntaxErrors(tree).map((e) =>
    errorFinding("Platform.IaC.ParseError", file, e.line, e.message, e.column),
  );
  const evaluator = new BicepEvaluator(file, tree.rootNode);
  for (const name of names) values.set(name, evaluator.symbol(name));
  const usingNode = tree.rootNode.namedChildren.find((n) => n.type === "using_statement");
  const target = usingNode?.namedChildren.find((n) => n.type === "string");
  const usingPath = target ? evaluator.eval(target) : undefined;
  tree.delete();
  return {
    params: { values, ...(typeof usingPath === "string" ? { using: resolve(dirname(abs), usingPath) } : {}) },
    findings,
  };
}

async function expand(paths: string[], root: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : join(root, p);
    const info = await stat(abs).catch(() => undefined);
    if (info?.isDirectory()) {
      const entries = await readdir(abs, { recursive: true, withFileTypes: true });
      for (const e of entries)
        if (e.isFile() && e.name.endsWith(".bicep") && !join(e.parentPath, e.name).includes("node_modules"))
          out.push(join(e.parentPath, e.name));
    } else out.push(abs);
  }
  return [...new Set(out)].sort();
}

/** Parse, evaluate and check .bicep files (or folders of them); unreadable or unparsable files become findings. */
export async function checkBicep(paths: string[], opts: CheckOptions): Promise<CheckResult> {
  const root = resolve(opts.root);
  const findings: IacFinding[] = [];
  const resources: ArmResource[] = [];
  let params: ParameterSet = { values: new Map() };
  if (opts.parameters) {
    const abs = isAbsolute(opts.parameters) ? opts.parameters : join(root, opts.parameters);
    try {
      const loaded = await loadParameters(abs, root);
      params = loaded.params;
      findings.push(...loaded.findings);
    } catch (e) {
      findings.push(
        errorFinding(
          "Platform.IaC.ReadError",
          rel(root, abs),
          1,
          `cannot read parameters: ${(e as Error).message}`,
        ),
      );
    }
  }
  for (const abs of await expand(paths, root)) {
    const file = rel(root, abs);
    let text: string;
    try {
      text = await readFile(abs, "utf8");
    } catch (e) {
      findings.push(errorFinding("Platform.IaC.ReadError", file, 1, `cannot read: ${(e as Error).message}`));
      continue;
    }
    const tree = await parseBicep(text);
    try {
      for (const e of syntaxErrors(tree))
        findings.push(
          errorFinding(
            "Platform.IaC.ParseError",
            file,
            e.line,
            `${e.message}; fix the Bicep syntax (checks on this file may be incomplete)`,
            e.column,
          ),
        );
      // A .bicepparam `using` another file does not apply to this one.
      const values = !params.using || params.using === abs ? params.values : new Map<string, Value>();
      resources.push(...new BicepEvaluator(file, tree.rootNode, values).resources());
    } catch (e) {
      findings.push(
        errorFinding(
          "Platform.IaC.EvalError",
          file,
          1,
          `internal error while evaluating: ${(e as Error).message}`,
        ),
      );
    } finally {
      tree.delete();
    }
  }
  const ruled = evaluateRules(resources);
  findings.push(...ruled.findings);
  return { findings, resources, rulesEvaluated: ruled.evaluated };
}
