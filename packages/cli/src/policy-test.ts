import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PlatformError } from "@platform/core";
import {
  type CaseResult,
  createCelEngine,
  type RegoCompiler,
  runGatorSuites,
  runKyvernoTests,
} from "@platform/policy";

const GATOR_SUITE = /^suite\.ya?ml$/;
const KYVERNO_TEST = /^kyverno-test\.ya?ml$/;

/** Finds suite files under the given paths (files are taken as they are). */
export function findSuites(paths: string[], root: string): { gator: string[]; kyverno: string[] } {
  const gator: string[] = [];
  const kyverno: string[] = [];
  const visit = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st)
      throw new PlatformError("INPUT_NOT_FOUND", `${p} does not exist`, {
        hint: "Pass directories or suite.yaml / kyverno-test.yaml files.",
      });
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort())
        if (!n.startsWith(".") && n !== "node_modules") visitChild(join(p, n));
    } else if (KYVERNO_TEST.test(p.split("/").at(-1) ?? "")) kyverno.push(p);
    else gator.push(p);
  };
  const visitChild = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort())
        if (!n.startsWith(".") || n === ".kyverno-test") if (n !== "node_modules") visitChild(join(p, n));
    } else {
      const name = p.split("/").at(-1) ?? "";
      if (GATOR_SUITE.test(name)) gator.push(p);
      else if (KYVERNO_TEST.test(name)) kyverno.push(p);
    }
  };
  for (const p of paths) visit(resolve(root, p));
  return { gator, kyverno };
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
  const engine = createCelEngine();
  const cases = [
    ...(await runGatorSuites(gator, { root, engine, rego: o.rego })),
    ...(await runKyvernoTests(kyverno, { root, engine })),
  ];
  const failed = cases.filter((c) => !c.ok);
  if (o.json) {
    const results = cases.map((c) => ({
      policy: c.test,
      kind: "TestCase",
      namespace: "",
      name: `${c.suite} ${c.case}`,
      verdict: c.ok ? "pass" : c.error ? "error" : "fail",
      message: c.ok
        ? `${c.expected}`
        : `expected ${c.expected}, got ${c.actual}${c.error ? `: ${c.error}` : ""}`,
      file: c.file,
      line: c.line,
    }));
    io.out(
      `${JSON.stringify({ results, summary: { cases: cases.length, passed: cases.length - failed.length, failed: failed.length } }, null, 2)}\n`,
    );
  } else {
    const c = (code: number, s: string) => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
    let suite = "";
    for (const r of cases) {
      if (r.suite !== suite) io.out(`${(suite = r.suite)}\n`);
      io.out(
        `  ${r.ok ? c(32, "ok  ") : c(31, r.error ? "ERR " : "FAIL")} ${r.test} / ${r.case}${r.ok ? "" : `: expected ${r.expected}, got ${r.actual}${r.error ? ` (${r.error})` : ""}`}\n`,
      );
    }
    io.out(`\n${cases.length} case(s): ${cases.length - failed.length} passed, ${failed.length} failed\n`);
  }
  return { code: failed.length ? 1 : 0, cases };
}
