import { readFileSync, realpathSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { BicepEvaluator, type FileLoader, isObject } from "./evaluate.ts";
import { parseBicep, syntaxErrors, type Tree } from "./parser.ts";
import { evaluateRules, IAC_RULES } from "./rules/index.ts";
import { applySuppressions, bicepSuppressions, parameterSuppressions, type Suppression } from "./suppress.ts";
import {
  type ArmResource,
  type CheckOptions,
  type CheckResult,
  type IacFinding,
  UnknownValue,
  type Value,
} from "./types.ts";

const MAX_MODULE_DEPTH = 8;

/**
 * Local Bicep module paths are followed; registry (`br:`, `br/`), template spec (`ts:`) and ARM JSON template
 * (`.json`) modules are not (their resources are not checked).
 */
const isLocalModule = (path: string): boolean => !/^(br|ts)[:/]/.test(path) && !/\.json$/i.test(path);

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

/** The Bicep compiler's limit for loadJsonContent/loadTextContent. */
const MAX_LOADED_CHARS = 1_048_576;

/**
 * Reads the files a .bicep/.bicepparam loads at compile time, relative to it and never outside the workspace
 * (symlinks resolved); a file that cannot be read is an error finding at the call, as the compiler fails there.
 */
function fileLoader(abs: string, root: string, findings: IacFinding[]): FileLoader {
  const file = rel(root, abs);
  return (path, line) => {
    const fail = (why: string): UnknownValue => {
      findings.push(errorFinding("Platform.IaC.ReadError", file, line, `cannot load '${path}': ${why}`));
      return new UnknownValue(`'${path}' could not be loaded (${why})`);
    };
    let real: string;
    let realRoot: string;
    try {
      real = realpathSync(resolve(dirname(abs), path));
      realRoot = realpathSync(root);
    } catch (e) {
      return fail((e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return fail("it is outside the workspace");
    const text = readFileSync(real, "utf8");
    if (text.length > MAX_LOADED_CHARS) return fail(`larger than ${MAX_LOADED_CHARS} characters`);
    return text;
  };
}

/** Parameter values from a parameters file, and the .bicep it is `using` (bicepparam only). */
export interface ParameterSet {
  values: Map<string, Value>;
  using?: string;
}

/** Read a `.bicepparam` (evaluated with the same evaluator) or an ARM parameters JSON file (`text`: already read). */
export async function loadParameters(
  abs: string,
  root: string,
  text?: string,
): Promise<{ params: ParameterSet; findings: IacFinding[] }> {
  const file = rel(root, abs);
  text ??= await readFile(abs, "utf8");
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
  const evaluator = new BicepEvaluator(file, tree.rootNode, new Map(), fileLoader(abs, root, findings));
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

const META_RULE_IDS = [
  "Platform.IaC.ParseError",
  "Platform.IaC.ReadError",
  "Platform.IaC.EvalError",
  "Platform.IaC.ModuleError",
];

/** Parse, evaluate and check .bicep files (or folders of them); unreadable or unparsable files become findings. */
export async function checkBicep(paths: string[], opts: CheckOptions): Promise<CheckResult> {
  const root = resolve(opts.root);
  const findings: IacFinding[] = [];
  const resources: ArmResource[] = [];
  const knownRules = new Set([...IAC_RULES.map((r) => r.id), ...META_RULE_IDS].map((id) => id.toLowerCase()));
  const suppressions: Suppression[] = [];
  type Entry = { params: ParameterSet; file: string; text: string };
  /** Parameter sets by the root file they apply to; `shared` (JSON files without `using`) applies to every root. */
  const byRoot = new Map<string, Entry>();
  let shared: Entry | undefined;
  const readParameters = async (abs: string, optional: boolean): Promise<Entry | undefined> => {
    let text: string;
    try {
      text = await readFile(abs, "utf8");
    } catch (e) {
      if (!optional)
        findings.push(
          errorFinding(
            "Platform.IaC.ReadError",
            rel(root, abs),
            1,
            `cannot read parameters: ${(e as Error).message}`,
          ),
        );
      return undefined;
    }
    const loaded = await loadParameters(abs, root, text);
    findings.push(...loaded.findings);
    return { params: loaded.params, file: rel(root, abs), text };
  };
  const explicit = opts.parameters === undefined ? [] : [opts.parameters].flat();
  for (const p of explicit) {
    const entry = await readParameters(isAbsolute(p) ? p : join(root, p), false);
    if (entry?.params.using) byRoot.set(entry.params.using, entry);
    else if (entry) shared = entry;
  }
  const files = await expand(paths, root);
  const parsed = new Map<string, Tree | undefined>();
  /** Parse a file once; read and syntax errors become findings, suppression comments are collected (once per file). */
  const load = async (abs: string): Promise<Tree | undefined> => {
    if (parsed.has(abs)) return parsed.get(abs);
    const file = rel(root, abs);
    let text: string;
    try {
      text = await readFile(abs, "utf8");
    } catch (e) {
      findings.push(errorFinding("Platform.IaC.ReadError", file, 1, `cannot read: ${(e as Error).message}`));
      parsed.set(abs, undefined);
      return undefined;
    }
    // A parser that cannot load is an environment problem: it throws rather than becoming a finding.
    const tree = await parseBicep(text);
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
    const own = bicepSuppressions(tree.rootNode, file, knownRules);
    suppressions.push(...own.suppressions);
    findings.push(...own.findings);
    parsed.set(abs, tree);
    return tree;
  };
  // A file that another checked file uses as a module is checked through that parent, with its params.
  const usedAsModule = new Set<string>();
  for (const abs of files) {
    const tree = await load(abs);
    if (!tree) continue;
    try {
      for (const m of new BicepEvaluator(rel(root, abs), tree.rootNode).modulePaths())
        if (isLocalModule(m.path)) {
          const target = resolve(dirname(abs), m.path);
          if (target !== abs) usedAsModule.add(target);
        }
    } catch {
      // reported when the file is evaluated below
    }
  }
  const roots = files.filter((f) => !usedAsModule.has(f));
  // An environment picks each root's parameters/<env>.bicepparam (the Azure Verified Modules layout).
  if (opts.environment)
    for (const abs of roots) {
      if (byRoot.has(abs)) continue;
      const entry = await readParameters(
        join(dirname(abs), "parameters", `${opts.environment}.bicepparam`),
        true,
      );
      // A parameters file `using` another template does not apply here.
      if (entry && (!entry.params.using || entry.params.using === abs)) byRoot.set(abs, entry);
    }
  const visit = async (
    abs: string,
    values: ReadonlyMap<string, Value>,
    condition: boolean | "unknown",
    stack: string[],
    visited: Set<string>,
  ): Promise<void> => {
    const tree = await load(abs);
    if (!tree) return;
    const file = rel(root, abs);
    visited.add(file);
    try {
      const evaluator = new BicepEvaluator(file, tree.rootNode, values, fileLoader(abs, root, findings));
      for (const r of evaluator.resources()) {
        if (condition === "unknown" && r.condition === true) r.condition = "unknown";
        resources.push(r);
      }
      for (const m of evaluator.modules()) {
        if (!isLocalModule(m.path)) continue;
        const target = resolve(dirname(abs), m.path);
        if (stack.includes(target) || stack.length >= MAX_MODULE_DEPTH) {
          findings.push(
            errorFinding(
              "Platform.IaC.ModuleError",
              file,
              m.line,
              `module '${m.path}' is not followed (${stack.includes(target) ? "cycle" : "nesting too deep"})`,
            ),
          );
          continue;
        }
        const passed = new Map<string, Value>(isObject(m.params) ? Object.entries(m.params) : []);
        const cond = condition === "unknown" || m.condition === "unknown" ? "unknown" : true;
        await visit(target, passed, cond, [...stack, target], visited);
      }
    } catch (e) {
      findings.push(
        errorFinding(
          "Platform.IaC.EvalError",
          file,
          1,
          `internal error while evaluating: ${(e as Error).message}`,
        ),
      );
    }
  };
  try {
    for (const abs of roots) {
      const entry = byRoot.get(abs) ?? shared;
      const visited = new Set<string>();
      await visit(abs, entry?.params.values ?? new Map<string, Value>(), true, [abs], visited);
      // A parameters file's suppressions cover the deployment it parameterizes: the root and its modules.
      if (entry) {
        const own = parameterSuppressions(entry.text, entry.file, visited, knownRules);
        suppressions.push(...own.suppressions);
        findings.push(...own.findings);
      }
    }
  } finally {
    for (const tree of parsed.values()) tree?.delete();
  }
  const ruled = evaluateRules(resources);
  // A module used twice with the same outcome reports once.
  const seen = new Set<string>();
  for (const f of ruled.findings) {
    const key = `${f.rule}|${f.file}|${f.line}|${f.message}|${f.resourceName ?? ""}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(f);
    }
  }
  findings.push(...applySuppressions(findings, suppressions));
  const parameterFiles = [
    ...new Set([...byRoot.values(), ...(shared ? [shared] : [])].map((e) => e.file)),
  ].sort();
  return { findings, resources, rulesEvaluated: ruled.evaluated, parameterFiles };
}
