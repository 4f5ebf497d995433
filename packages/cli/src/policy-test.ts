import { readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { PlatformError } from "@platform/core/errors";
import type { CaseResult, RegoCompiler } from "@platform/policy/suites";

const GATOR_SUITE = /^suite\.ya?ml$/;
const KYVERNO_TEST = /^kyverno-test\.ya?ml$/;

/** Finds suite files under the given paths; a file named on the command line is taken as it is. */
export function findSuites(paths: string[], root: string): { gator: string[]; kyverno: string[] } {
  const found = { gator: [] as string[], kyverno: [] as string[] };
  // Directory entries carry their type, so only symlinks (and the named paths) cost a stat: the
  // gatekeeper-library is ~170 folders and ~500 files, and a stat per entry was ~5% of a run.
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      // Kyverno keeps its tests in .kyverno-test/; other dot-directories are skipped.
      if ((e.name.startsWith(".") && e.name !== ".kyverno-test") || e.name === "node_modules") continue;
      const p = join(dir, e.name);
      const isDir = e.isSymbolicLink()
        ? statSync(p, { throwIfNoEntry: false })?.isDirectory()
        : e.isDirectory();
      if (isDir) walk(p);
      else if (KYVERNO_TEST.test(e.name)) found.kyverno.push(p);
      else if (GATOR_SUITE.test(e.name)) found.gator.push(p);
    }
  };
  for (const p of paths) {
    const abs = resolve(root, p);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st)
      throw new PlatformError("INPUT_NOT_FOUND", `${abs} does not exist`, {
        hint: "Pass directories or suite.yaml / kyverno-test.yaml files.",
      });
    if (st.isDirectory()) walk(abs);
    else if (KYVERNO_TEST.test(basename(abs))) found.kyverno.push(abs);
    else found.gator.push(abs);
  }
  return found;
}

/** The message of a failing row, so an unexpected fail says what the policy objected to. */
function failMessage(c: CaseResult): string {
  const row = c.results.find((r) => r.verdict === "fail" || r.verdict === "warn");
  return row?.message ? `: ${row.message}` : "";
}

/** `platform policy test`: runs gator and Kyverno suites unchanged and reports each case. */
export async function runPolicyTest(
  paths: string[],
  o: { root: string; json: boolean; color: boolean; rego?: RegoCompiler },
  io: { out: (s: string) => void },
): Promise<{ code: number; cases: CaseResult[] }> {
  const root = resolve(o.root);
  const { gator, kyverno } = findSuites(paths, root);
  if (gator.length + kyverno.length === 0) {
    throw new PlatformError(
      "SUITES_NOT_FOUND",
      `no suite.yaml or kyverno-test.yaml under ${paths.join(", ")}`,
      { hint: "Point policy test at Gatekeeper suites (gator verify format) or Kyverno CLI tests." },
    );
  }
  const { createCelEngine, runGatorSuites, runKyvernoTests } = await import("@platform/policy/suites");
  const engine = createCelEngine();
  const cases = [
    ...(await runGatorSuites(gator, { root, engine, rego: o.rego })),
    ...(await runKyvernoTests(kyverno, { root, engine })),
  ];
  // Every file is read: the parsed-YAML entries this run used are packed for the next run (one read).
  const { flushManifestStreamCache } = await import("@platform/core/yaml-cache");
  await flushManifestStreamCache();
  const failed = cases.filter((c) => !c.ok);
  const unsupported = cases.filter((c) => c.unsupported).length;
  // A case whose policy cannot run is never a verdict: it is an error row saying so, and it does not pass.
  const message = (c: CaseResult) =>
    c.ok
      ? c.expected
      : c.unsupported
        ? `not supported: ${c.unsupported}`
        : `expected ${c.expected}, got ${c.actual}${c.error ? `: ${c.error}` : failMessage(c)}`;
  if (o.json) {
    const results = cases.map((c) => ({
      policy: c.test,
      kind: "TestCase",
      namespace: "",
      name: `${c.suite} ${c.case}`,
      verdict: c.ok ? "pass" : c.error || c.unsupported ? "error" : "fail",
      message: message(c),
      file: c.file,
      line: c.line,
    }));
    const summary = {
      cases: cases.length,
      passed: cases.length - failed.length,
      failed: failed.length - unsupported,
      unsupported,
    };
    io.out(`${JSON.stringify({ results, summary }, null, 2)}\n`);
  } else {
    const c = (code: number, s: string) => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
    // One write: a line per case was a write(2) each (hundreds on a library).
    const lines: string[] = [];
    let suite = "";
    for (const r of cases) {
      if (r.suite !== suite) {
        suite = r.suite;
        lines.push(`${suite}\n`);
      }
      const mark = r.ok ? c(32, "ok  ") : r.unsupported ? c(33, "N/S ") : c(31, r.error ? "ERR " : "FAIL");
      lines.push(`  ${mark} ${r.test} / ${r.case}${r.ok ? "" : `: ${message(r)}`}\n`);
    }
    lines.push(
      `\n${cases.length} case(s): ${cases.length - failed.length} passed, ${failed.length - unsupported} failed${unsupported ? `, ${unsupported} not supported` : ""}\n`,
    );
    io.out(lines.join(""));
  }
  return { code: failed.length ? 1 : 0, cases };
}
