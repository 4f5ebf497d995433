import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createCelEngine, opaRegoCompiler, runGatorSuites } from "@platform/policy";
import { describe, expect, it } from "vitest";
import { gatekeeperLibrary, requirePeers } from "../peers/index.ts";

// The public Gatekeeper library, read in place (never copied into the project).
const library = gatekeeperLibrary();
const LIBRARY = library.path;
const peers = requirePeers("gator", "opa");

function suiteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? suiteFiles(p) : n === "suite.yaml" ? [p] : [];
  });
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
      for (const p of pending) verdicts.set(`${suite}|${p.test}|${p.case}`, p.pass);
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
      for (const c of ours) {
        const key = `${c.suite}|${c.test}|${c.case}`;
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
      expect(disagreements).toEqual([]);
      expect(agree).toBe(ours.length);
      expect(byEngine.cel).toBeGreaterThan(100);
      expect(byEngine.rego).toBeGreaterThan(100);
    });
  },
);
