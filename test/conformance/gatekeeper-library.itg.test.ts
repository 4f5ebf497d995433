import { spawnSync } from "node:child_process";
import { readdirSync, realpathSync, statSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createCelEngine, opaRegoCompiler, runGatorSuites } from "@platform/policy";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { gatekeeperLibrary, requirePeers } from "../peers/index.ts";

// The public Gatekeeper library, read in place (never copied into the project).
const library = gatekeeperLibrary();
// gator prints suite paths from its working directory as the OS resolves it (symlinks followed): compare
// against the same resolved root, or a shared/ folder reached through a link keys every case differently.
const LIBRARY = library.ok ? realpathSync(library.path) : library.path;
const peers = requirePeers("gator", "opa");

function suiteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? suiteFiles(p) : n === "suite.yaml" ? [p] : [];
  });
}

/** `key`, or `key#2`, `key#3`… when `seen` already has it. */
function numbered(seen: { has(k: string): boolean }, key: string): string {
  if (!seen.has(key)) return key;
  let n = 2;
  while (seen.has(`${key}#${n}`)) n++;
  return `${key}#${n}`;
}

/** Our cases keyed like parseGatorVerify's, in suite order. */
function keyed<T extends { suite: string; test: string; case: string }>(cases: T[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const c of cases) out.set(numbered(out, `${c.suite}|${c.test}|${c.case}`), c);
  return out;
}

/** Parses `gator verify -v` output into "suite-relative-path|test|case" → passed. */
export function parseGatorVerify(out: string, root: string): Map<string, boolean> {
  const verdicts = new Map<string, boolean>();
  let pending: Array<{ test: string; case: string; pass: boolean }> = [];
  let test = "";
  for (const line of out.split("\n")) {
    const run = /^=== RUN\s+(.+)$/.exec(line);
    if (run) test = run[1]!.trim();
    const c = /^\s+--- (PASS|FAIL): (.+?)\s+\(/.exec(line);
    if (c) pending.push({ test, case: c[2]!, pass: c[1] === "PASS" });
    const done = /^(ok|FAIL)\s+(\S+suite\.yaml)/.exec(line);
    if (done) {
      const suite = relative(root, `/${done[2]!.replace(/^\.\//, "")}`);
      // A case name can repeat within a test: number the repeats so each case keeps its own verdict.
      for (const p of pending) verdicts.set(numbered(verdicts, `${suite}|${p.test}|${p.case}`), p.pass);
      pending = [];
    }
  }
  return verdicts;
}

describe.skipIf(!peers.ok || !library.ok)(
  "gatekeeper-library conformance: platform policy test vs gator verify",
  () => {
    it("agrees with gator on every case: templates with CEL run on the CEL engine, Rego-only ones through OPA wasm", async () => {
      const suites = suiteFiles(LIBRARY);
      const gator = spawnSync(peers.paths.gator!, ["verify", "./...", "-v"], {
        cwd: LIBRARY,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      const theirs = parseGatorVerify(gator.stdout + gator.stderr, LIBRARY);
      expect(theirs.size).toBeGreaterThan(200);

      const ours = await runGatorSuites(suites, {
        root: LIBRARY,
        engine: createCelEngine(),
        rego: opaRegoCompiler({ opa: peers.paths.opa }),
      });
      let agree = 0;
      const disagreements: string[] = [];
      const byEngine = { cel: 0, rego: 0 };
      const oursByKey = keyed(ours);
      for (const [key, c] of oursByKey) {
        const g = theirs.get(key);
        if (c.engine) byEngine[c.engine]++;
        if (g === undefined) disagreements.push(`${key}: gator has no verdict`);
        else if (g === c.ok) agree++;
        else
          disagreements.push(
            `${key}: gator ${g ? "PASS" : "FAIL"}, ours ${c.ok ? "PASS" : `FAIL (expected ${c.expected}, got ${c.actual}${c.error ? `: ${c.error}` : ""})`}`,
          );
      }
      console.log(
        `gatekeeper-library: ${ours.length} cases in ${suites.length} suites; ${agree} agree with gator verify (judged by the CEL engine: ${byEngine.cel}, by OPA wasm: ${byEngine.rego})`,
      );
      // Same cases on both sides: a case we skipped or invented would otherwise go unnoticed.
      const missing = [...theirs.keys()].filter((k) => !oursByKey.has(k));
      expect(missing).toEqual([]);
      expect(ours.length).toBe(theirs.size);
      expect(disagreements).toEqual([]);
      expect(agree).toBe(ours.length);
      expect(byEngine.cel).toBeGreaterThan(100);
      expect(byEngine.rego).toBeGreaterThan(100);
    });

    it("agrees with gator where gator reports failures too (expectations flipped in a temporary copy)", async () => {
      // CEL and Rego-only templates, with count, yes/no and message-filtered assertions.
      const picked = [
        "general/allowedrepos",
        "general/requiredlabels",
        "general/containerlimits",
        "general/disallowedtags",
        "pod-security-policy/privileged-containers",
        "pod-security-policy/host-namespaces",
        "pod-security-policy/capabilities",
      ];
      const copy = await mkdtemp(join(tmpdir(), "gk-flipped-"));
      let flipped = 0;
      try {
        for (const dir of picked) {
          await cp(join(LIBRARY, dir), join(copy, dir), { recursive: true });
          const file = join(copy, dir, "suite.yaml");
          const suite = parse(await readFile(file, "utf8")) as {
            tests: Array<{ cases?: Array<{ assertions?: Array<Record<string, unknown>> }> }>;
          };
          for (const t of suite.tests)
            (t.cases ?? []).forEach((c, i) => {
              const a = c.assertions?.[0];
              if (!a || i % 2 === 1) return;
              const v = a.violations ?? "yes";
              a.violations = v === "yes" ? "no" : v === "no" ? "yes" : typeof v === "number" ? v + 1 : "no";
              flipped++;
            });
          await writeFile(file, stringify(suite));
        }
        const gator = spawnSync(peers.paths.gator!, ["verify", "./...", "-v"], {
          cwd: copy,
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        });
        const theirs = parseGatorVerify(gator.stdout + gator.stderr, copy);
        const ours = await runGatorSuites(suiteFiles(copy), {
          root: copy,
          engine: createCelEngine(),
          rego: opaRegoCompiler({ opa: peers.paths.opa }),
        });
        const failing = [...theirs.values()].filter((ok) => !ok).length;
        console.log(
          `gatekeeper-library flipped: ${ours.length} cases in ${picked.length} suites, ${flipped} flipped; gator fails ${failing}, we fail ${ours.filter((c) => !c.ok).length}`,
        );
        expect(failing).toBe(flipped);
        expect(ours.length).toBe(theirs.size);
        const differ = [...keyed(ours)]
          .filter(([k, c]) => theirs.get(k) !== c.ok)
          .map(([k, c]) => `${k}: gator ${theirs.get(k)}, ours ${c.ok}`);
        expect(differ).toEqual([]);
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
    });
  },
);
