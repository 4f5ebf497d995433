import { spawnSync } from "node:child_process";
import { cpSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { createCelEngine, runKyvernoTests } from "@platform/policy";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../../packages/cli/src/main.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

// kyverno/policies' ValidatingPolicy suites, pinned in the repository (see the folder's README).
const ROOT = join(REPO_ROOT, "test", "fixtures", "kyverno-policies");
const peers = requirePeers("kyverno");

/** Suites the real CLI cannot run at all, with the reason (listed in the table, not compared). */
const CLI_CANNOT_RUN: Record<string, string> = {
  "best-practices-vpol/check-deprecated-apis":
    'kyverno 1.15.2 aborts the test: "no matches for kind CronJob in version batch/v1beta1" (its offline REST mapper lacks removed APIs)',
  "other-vpol/block-stale-images":
    "kyverno 1.15.2 cannot compile the policy: \"undeclared reference to 'time'\" (its time library came with policies.kyverno.io/v1)",
  "other-vpol/limit-configmap-for-sa":
    "kyverno 1.15.2 cannot compile the policy: \"undeclared reference to 'parseServiceAccount'\" (its user library came with policies.kyverno.io/v1)",
};

interface TheirRow {
  POLICY: string;
  RESOURCE: string;
  REASON: string;
  RESULT: string;
  Message?: string;
}

interface Expected {
  policy: string;
  kind: string;
  name: string;
  result: string;
}

/** The (policy, resource) pairs of a kyverno-test.yaml in the order `kyverno test` reports them. */
function expectedCases(testFile: string): Expected[] {
  const test = parse(readFileSync(testFile, "utf8")) as {
    results?: Array<{ policy: string; kind?: string; resources?: string[]; result: string }>;
  };
  return (test.results ?? []).flatMap((r) =>
    (r.resources ?? []).map((name) => ({ policy: r.policy, kind: r.kind ?? "", name, result: r.result })),
  );
}

/**
 * Per-resource results of `kyverno test -o json --detailed-results`. Rows come in the test file's order; an
 * "Excluded" row (a policy variant that did not match) carries no usable resource name, so a case with only
 * such rows is "excluded"; a case's real row says "Ok" (the expected result) or "Want x, got y". The CLI
 * matches resources by name only, so a name shared by two kinds yields a row per kind: the entry's kind wins.
 */
export function parseKyvernoTest(
  stdout: string,
  cases: Expected[],
): Map<number, { actual: string; message: string }> {
  const json = /^\[\n[\s\S]*?^\]$/m.exec(stdout);
  const rows = json ? (JSON.parse(json[0]) as TheirRow[]) : [];
  const out = new Map<number, { actual: string; message: string }>();
  const base = (s: string) => s.split("/").at(-1)!;
  let next = 0;
  let last = -1;
  for (const row of rows) {
    if (row.REASON === "Excluded" || row.REASON === "Not found") continue;
    const parts = row.RESOURCE.split("/");
    const [kind, name] = [parts.at(-3)!, parts.at(-1)!];
    const same = (i: number) => base(cases[i]!.name) === name && base(cases[i]!.policy) === row.POLICY;
    let j: number;
    if (last >= 0 && same(last)) j = last;
    else {
      j = next;
      while (j < cases.length && !same(j)) j++;
      if (j === cases.length) continue;
    }
    const c = cases[j]!;
    const want = /^Want (\w+), got (\w+)$/.exec(row.REASON);
    const actual = row.REASON === "Ok" ? c.result : want ? want[2]! : row.REASON.toLowerCase();
    if (!out.has(j) || kind === c.kind) out.set(j, { actual, message: row.Message ?? "" });
    last = j;
    next = j + 1;
  }
  const notFound = rows.some((r) => r.REASON === "Not found");
  for (let i = 0; i < cases.length; i++)
    if (!out.has(i)) out.set(i, { actual: notFound ? "not found" : "excluded", message: "" });
  return out;
}

/**
 * Runs the real CLI on one suite. kyverno 1.15.2 knows policies.kyverno.io/v1alpha1 only; suites whose
 * policies say v1beta1 or v1 (same ValidatingPolicy schema) run from a temporary copy with the version rewritten.
 */
function runRealCli(kyverno: string, suiteDir: string): { stdout: string; rewritten: boolean } {
  const policyFiles = globSync(join(suiteDir, "*.yaml"));
  const needsRewrite = policyFiles.some((f) =>
    /^apiVersion: policies\.kyverno\.io\/v1(beta1)?\s*$/m.test(readFileSync(f, "utf8")),
  );
  let dir = suiteDir;
  let tmp: string | undefined;
  if (needsRewrite) {
    tmp = mkdtempSync(join(tmpdir(), "kyverno-suite-"));
    dir = join(tmp, "suite");
    cpSync(suiteDir, dir, { recursive: true });
    for (const f of globSync(join(dir, "*.yaml")))
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace(
          /^apiVersion: policies\.kyverno\.io\/v1(beta1)?\s*$/gm,
          "apiVersion: policies.kyverno.io/v1alpha1",
        ),
      );
  }
  try {
    const r = spawnSync(kyverno, ["test", dir, "-o", "json", "--detailed-results"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: tmp ?? tmpdir(), KYVERNO_EXPERIMENTAL: "false" },
    });
    return { stdout: r.stdout + r.stderr, rewritten: needsRewrite };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

describe.skipIf(!peers.ok)(
  "kyverno/policies ValidatingPolicy suites: platform policy test vs kyverno test 1.15.2",
  () => {
    it("gives identical per-resource results (policy, resource, result) on every suite the real CLI can run", async () => {
      const testFiles = globSync(join(ROOT, "**", ".kyverno-test", "kyverno-test.yaml")).sort();
      expect(testFiles.length).toBe(100);
      const ours = await runKyvernoTests(testFiles, { root: ROOT, engine: createCelEngine() });

      const table: Array<{
        suite: string;
        cases: number;
        agree: number;
        unsupported: number;
        differ: number;
        note: string;
      }> = [];
      // Cases neither side can judge offline: ours names the library (not supported), kyverno test errors.
      const unsupported: string[] = [];
      const differences: string[] = [];
      const excluded: Record<string, string> = {};
      for (const file of testFiles) {
        const suiteDir = dirname(dirname(file));
        const suite = relative(ROOT, suiteDir);
        const display = relative(ROOT, file);
        const mine = ours.filter((c) => c.suite === display);
        if (CLI_CANNOT_RUN[suite]) {
          excluded[suite] = CLI_CANNOT_RUN[suite]!;
          table.push({
            suite,
            cases: mine.length,
            agree: 0,
            unsupported: 0,
            differ: 0,
            note: `excluded: ${CLI_CANNOT_RUN[suite]}`,
          });
          continue;
        }
        const cases = expectedCases(file);
        const real = runRealCli(peers.paths.kyverno!, suiteDir);
        const aborted = /^Error: (failed to run test.*)$/m.exec(real.stdout);
        if (aborted) {
          differences.push(`${suite}: kyverno test could not run it: ${aborted[1]}`);
          table.push({
            suite,
            cases: mine.length,
            agree: 0,
            unsupported: 0,
            differ: mine.length,
            note: "kyverno test aborted",
          });
          continue;
        }
        const theirs = parseKyvernoTest(real.stdout, cases);
        expect(mine.length, `${suite}: case count`).toBe(cases.length);
        let agree = 0;
        let both = 0;
        mine.forEach((c, i) => {
          const t = theirs.get(i)!;
          const a = c.actual;
          if (t.actual === a) agree++;
          else if (a === "not supported" && c.unsupported && t.actual === "error") {
            both++;
            unsupported.push(`${suite} ${c.case}: ${c.unsupported}; kyverno: ${t.message}`);
          } else
            differences.push(
              `${suite} ${c.test} ${c.case}: ours ${a}${c.error ? ` (${c.error})` : ""}${a === "error" ? ` [${c.results.map((r) => r.message).join(" | ")}]` : ""}; kyverno ${t.actual}${t.message ? ` (${t.message})` : ""}`,
            );
        });
        table.push({
          suite,
          cases: mine.length,
          agree,
          unsupported: both,
          differ: mine.length - agree - both,
          note: real.rewritten ? "policies.kyverno.io/v1(beta1) run as v1alpha1 by the 1.15.2 CLI" : "",
        });
      }
      const compared = table.filter((t) => !t.note.startsWith("excluded"));
      const totals = {
        suites: testFiles.length,
        suitesCompared: compared.length,
        cases: compared.reduce((n, t) => n + t.cases, 0),
        agree: compared.reduce((n, t) => n + t.agree, 0),
        unsupported: compared.reduce((n, t) => n + t.unsupported, 0),
        differ: compared.reduce((n, t) => n + t.differ, 0),
        excluded,
      };
      console.log(
        [
          "kyverno/policies (ValidatingPolicy) — platform policy test vs kyverno test 1.15.2",
          "| suites | compared | cases | agree | not supported offline (both) | differ |",
          "|---|---|---|---|---|---|",
          `| ${totals.suites} | ${totals.suitesCompared} | ${totals.cases} | ${totals.agree} | ${totals.unsupported} | ${totals.differ} |`,
          ...Object.entries(excluded).map(([s, why]) => `excluded ${s}: ${why}`),
          ...unsupported.map((u) => `NOT SUPPORTED ${u}`),
          ...differences.map((d) => `DIFFER ${d}`),
        ].join("\n"),
      );
      mkdirSync(join(REPO_ROOT, "test-results"), { recursive: true });
      writeFileSync(
        join(REPO_ROOT, "test-results", "kyverno-policies.json"),
        `${JSON.stringify({ totals, suites: table, unsupported, differences }, null, 2)}\n`,
      );
      expect(differences).toEqual([]);
      // Only Kyverno's registry/HTTP/cluster libraries may leave a case unjudged, each named.
      for (const u of unsupported)
        expect(u).toMatch(/uses Kyverno's (image\.GetMetadata|http|globalContext|resource\.Post)/);
      expect(totals.cases).toBeGreaterThan(1300);
    }, 600_000);

    it("the CLI prints the same cases: `platform policy test --json` over the pinned suites", async () => {
      let out = "";
      const code = await main(["policy", "test", ".", "--json"], {
        out: (s) => {
          out += s;
        },
        err: () => {},
        env: { NO_COLOR: "1" },
        cwd: ROOT,
      });
      const parsed = JSON.parse(out) as { results: unknown[]; summary: { cases: number; passed: number } };
      const lib = await runKyvernoTests(
        globSync(join(ROOT, "**", ".kyverno-test", "kyverno-test.yaml")).sort(),
        {
          root: ROOT,
          engine: createCelEngine(),
        },
      );
      expect(parsed.summary.cases).toBe(lib.length);
      expect(parsed.summary.passed).toBe(lib.filter((c) => c.ok).length);
      expect(code).toBe(lib.every((c) => c.ok) ? 0 : 1);
    });
  },
);
