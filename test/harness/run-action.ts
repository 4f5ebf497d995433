import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../peers/index.ts";

export interface ParsedAnnotation {
  level: "error" | "warning" | "notice";
  message: string;
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

export interface ActionRun {
  code: number;
  outputs: Record<string, string>;
  summary: string;
  annotations: ParsedAnnotation[];
  stdout: string;
  stderr: string;
  /** Values registered with ::add-mask::. */
  masked: string[];
}

/** Parses GITHUB_OUTPUT's `name<<delimiter` heredoc format (and plain name=value lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name!] = value.join("\n");
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

/** Parses workflow commands (`::error file=a,line=1::msg`) from an action's stdout. */
export function parseAnnotations(stdout: string): ParsedAnnotation[] {
  const out: ParsedAnnotation[] = [];
  for (const m of stdout.matchAll(/^::(error|warning|notice)(?: ([^:]*))?::(.*)$/gm)) {
    const props = Object.fromEntries(
      (m[2] ?? "")
        .split(",")
        .filter(Boolean)
        .map((kv) => [
          kv.slice(0, kv.indexOf("=")),
          unescapeData(kv.slice(kv.indexOf("=") + 1))
            .replace(/%3A/g, ":")
            .replace(/%2C/g, ","),
        ]),
    );
    out.push({
      level: m[1] as ParsedAnnotation["level"],
      message: unescapeData(m[3]!),
      file: props.file,
      line: props.line ? Number(props.line) : undefined,
      col: props.col ? Number(props.col) : undefined,
      title: props.title,
    });
  }
  return out;
}

/**
 * Runs a bundled action exactly as the GitHub runner does: `node actions/<verb>/dist/index.js` with
 * INPUT_* variables (names upper-cased, hyphens kept), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
 * GITHUB_WORKSPACE and a temporary RUNNER_TEMP.
 */
export async function runBundledAction(
  verb: string,
  inputs: Record<string, string>,
  opts: { workspace: string; env?: Record<string, string | undefined> },
): Promise<ActionRun> {
  const temp = await mkdtemp(join(tmpdir(), `action-${verb}-`));
  const outputFile = join(temp, "output");
  const summaryFile = join(temp, "summary.md");
  await writeFile(outputFile, "");
  await writeFile(summaryFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? temp,
    GITHUB_ACTIONS: "true",
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: opts.workspace,
    RUNNER_TEMP: temp,
    GITHUB_REPOSITORY: "northwind/app",
    GITHUB_RUN_ID: "42",
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
    GITHUB_SERVER_URL: "https://github.com",
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(opts.env ?? {}))
    if (v === undefined) delete env[k];
    else env[k] = v;
  const child = spawn(process.execPath, [join(REPO_ROOT, "actions", verb, "dist", "index.js")], {
    cwd: opts.workspace,
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? -1)));
  const result: ActionRun = {
    code,
    outputs: parseOutputFile(await readFile(outputFile, "utf8")),
    summary: await readFile(summaryFile, "utf8"),
    annotations: parseAnnotations(stdout),
    stdout,
    stderr,
    masked: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]!),
  };
  await rm(temp, { recursive: true, force: true });
  return result;
}
