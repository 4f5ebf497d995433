import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseYamlStream } from "@platform/core";
import { RE2JS } from "re2js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatekeeperLibrary, requirePeers } from "../../../../test/peers/index.ts";
import {
  compileRegoTemplates,
  defaultRegoCacheDir,
  gatekeeperInventory,
  gatekeeperReview,
  goSprintf,
  type RegoCompileResult,
  type RegoTemplateSource,
  regoSource,
} from "./rego.ts";

const library = gatekeeperLibrary();
const LIBRARY = library.path;
const peers = requirePeers("opa");
const OPA = peers.paths.opa as string;
const withOpa = peers.ok ? describe : describe.skip;

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rego-test-"));
  temps.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

function docs(file: string): unknown[] {
  return parseYamlStream(readFileSync(file, "utf8"), file)
    .docs.map((d) => d.value)
    .filter((v) => v != null);
}

function get(o: unknown, ...path: string[]): unknown {
  let v = o;
  for (const k of path)
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

// ---- the gatekeeper-library suites, read in place ------------------------------------------------

interface Assertion {
  violations?: unknown;
  message?: string;
}
interface SuiteCase {
  name: string;
  object: string;
  assertions: Assertion[];
  inventory?: string[];
}
interface SuiteTest {
  name: string;
  template: string;
  constraint: string;
  cases?: SuiteCase[];
}
interface Suite {
  id: string;
  dir: string;
  tests: SuiteTest[];
}

function librarySuites(): Suite[] {
  if (!library.ok) return [];
  const out: Suite[] = [];
  for (const bundle of ["general", "pod-security-policy"]) {
    for (const name of readdirSync(join(LIBRARY, bundle)).sort()) {
      const file = join(LIBRARY, bundle, name, "suite.yaml");
      if (!existsSync(file)) continue;
      const suite = docs(file)[0];
      out.push({
        id: `${bundle}/${name}`,
        dir: dirname(file),
        tests: (get(suite, "tests") ?? []) as SuiteTest[],
      });
    }
  }
  return out;
}

/** Gatekeeper's match for what the library's sample constraints use: kinds, namespaces, excludedNamespaces. */
function matches(constraint: unknown, review: Record<string, unknown>): boolean {
  const match = get(constraint, "spec", "match");
  const object = (review.object ?? review.oldObject) as unknown;
  const apiVersion = String(get(object, "apiVersion") ?? "");
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  const kind = String(get(object, "kind") ?? "");
  const kinds = get(match, "kinds") as Array<{ apiGroups?: string[]; kinds?: string[] }> | undefined;
  if (
    kinds?.length &&
    !kinds.some(
      (k) =>
        (k.apiGroups ?? []).some((g) => g === "*" || g === group) &&
        (k.kinds ?? []).some((x) => x === "*" || x === kind),
    )
  )
    return false;
  const ns =
    kind === "Namespace"
      ? String(get(object, "metadata", "name") ?? "")
      : String(review.namespace ?? get(object, "metadata", "namespace") ?? "");
  const glob = (patterns: unknown) =>
    (patterns as string[]).some((p) => (p.endsWith("*") ? ns.startsWith(p.slice(0, -1)) : p === ns));
  const namespaces = get(match, "namespaces");
  const excluded = get(match, "excludedNamespaces");
  if (ns && Array.isArray(namespaces) && namespaces.length && !glob(namespaces)) return false;
  if (ns && Array.isArray(excluded) && glob(excluded)) return false;
  return true;
}

function assertionHolds(a: Assertion, messages: string[]): boolean {
  const re = a.message === undefined ? undefined : RE2JS.compile(a.message);
  const n = messages.filter((m) => !re || re.matcher(m).find()).length;
  const want = a.violations ?? "yes";
  if (want === "yes") return n > 0;
  if (want === "no") return n === 0;
  return BigInt(n) === BigInt(want as bigint | number);
}

const SUITES = librarySuites();

interface CaseOutcome {
  suite: string;
  test: string;
  case: string;
  agree: boolean;
  matched: boolean;
  detail: string;
  perObjectMs: number;
}

withOpa("gatekeeper-library Rego templates against their suite.yaml", () => {
  const templates = new Map<string, { source: RegoTemplateSource; regoOnly: boolean }>();
  let results = new Map<string, RegoCompileResult>();
  const outcomes: CaseOutcome[] = [];
  const timing = { batchMs: 0, cachedMs: 0, opaCalls: "" };

  beforeAll(async () => {
    for (const suite of SUITES) {
      for (const test of suite.tests) {
        const file = join(suite.dir, test.template);
        const template = docs(file)[0];
        const source = regoSource(template);
        if (!source) continue;
        const code = get(template, "spec", "targets") as Array<{ code?: Array<{ engine?: string }> }>;
        const regoOnly = !code[0]?.code?.some((c) => c.engine === "K8sNativeValidation");
        templates.set(file, { source, regoOnly });
      }
    }
    const cacheDir = await tempDir();
    const bin = await tempDir();
    const wrapper = join(bin, "opa");
    await writeFile(wrapper, `#!/bin/sh\necho "$1" >> "${join(bin, "calls.log")}"\nexec "${OPA}" "$@"\n`);
    await chmod(wrapper, 0o755);
    const sources = [...templates.values()].map((t) => t.source);
    let started = performance.now();
    await compileRegoTemplates(sources, { opa: wrapper, cacheDir });
    timing.batchMs = performance.now() - started;
    started = performance.now();
    results = await compileRegoTemplates(sources, { opa: wrapper, cacheDir });
    timing.cachedMs = performance.now() - started;
    timing.opaCalls = (await readFile(join(bin, "calls.log"), "utf8")).trim().split("\n").join(", ");
  }, 300_000);

  afterAll(() => {
    if (!outcomes.length) return;
    const bySuite = new Map<string, CaseOutcome[]>();
    for (const o of outcomes) bySuite.set(o.suite, [...(bySuite.get(o.suite) ?? []), o]);
    const lines = [...bySuite].map(([suite, list]) => {
      const agree = list.filter((o) => o.agree).length;
      return `  ${agree === list.length ? "✓" : "✗"} ${suite}: ${agree}/${list.length}`;
    });
    const agree = outcomes.filter((o) => o.agree).length;
    const evalMs = outcomes.map((o) => o.perObjectMs).sort((a, b) => a - b);
    console.log(
      [
        `gatekeeper-library Rego agreement with suite.yaml: ${agree}/${outcomes.length} cases in ${bySuite.size} suites`,
        ...lines,
        ...outcomes.filter((o) => !o.agree).map((o) => `  ✗ ${o.suite} › ${o.test} › ${o.case}: ${o.detail}`),
        `cases whose object the constraint does not match (no evaluation, as in gator): ${
          outcomes
            .filter((o) => !o.matched)
            .map((o) => `${o.suite} › ${o.case}`)
            .join(", ") || "none"
        }`,
        `templates: ${templates.size} (${[...templates.values()].filter((t) => t.regoOnly).length} Rego-only, the rest Rego + CEL, run here on their Rego)`,
        `compile: ${timing.batchMs.toFixed(0)} ms (opa called for: ${timing.opaCalls}); cached load: ${timing.cachedMs.toFixed(0)} ms; evaluation per object: median ${(evalMs[evalMs.length >> 1] ?? 0).toFixed(3)} ms, max ${(evalMs[evalMs.length - 1] ?? 0).toFixed(3)} ms`,
      ].join("\n"),
    );
  });

  it("compiles every template in the library", () => {
    const failures = [...results].filter(([, r]) => !r.ok);
    expect(failures.map(([kind, r]) => `${kind}: ${r.ok ? "" : r.reason}`)).toEqual([]);
    expect(results.size).toBe(new Set([...templates.values()].map((t) => t.source.kind)).size);
  });

  it.each(SUITES.map((s) => [s.id, s] as const))("%s", (_id, suite) => {
    const disagreements: string[] = [];
    for (const test of suite.tests) {
      const entry = templates.get(join(suite.dir, test.template));
      if (!entry) continue;
      const result = results.get(entry.source.kind);
      if (!result?.ok)
        throw new Error(
          `${entry.source.kind} did not compile: ${result?.ok === false ? result.reason : "no result"}`,
        );
      const constraint = docs(join(suite.dir, test.constraint))[0];
      const parameters = get(constraint, "spec", "parameters") ?? {};
      for (const c of test.cases ?? []) {
        const objects = docs(join(suite.dir, c.object));
        expect(objects, `${c.object} must hold one object`).toHaveLength(1);
        const review = gatekeeperReview(objects[0]);
        const inventory = c.inventory?.length
          ? gatekeeperInventory(c.inventory.flatMap((f) => docs(join(suite.dir, f))))
          : undefined;
        const started = performance.now();
        const matched = matches(constraint, review);
        const violations = matched ? result.program.evaluate({ review, parameters }, { inventory }) : [];
        const perObjectMs = performance.now() - started;
        const messages = violations.map((v) => v.msg);
        const failed = c.assertions.filter((a) => !assertionHolds(a, messages));
        const detail = failed.length
          ? `assertion(s) ${JSON.stringify(failed, (_k, v) => (typeof v === "bigint" ? Number(v) : v))} fail; got ${JSON.stringify(messages)}`
          : "";
        outcomes.push({
          suite: suite.id,
          test: test.name,
          case: c.name,
          agree: !failed.length,
          matched,
          detail,
          perObjectMs,
        });
        if (failed.length) disagreements.push(`${test.name} › ${c.name}: ${detail}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});

// ---- compile behaviour ---------------------------------------------------------------------------

const GOOD: RegoTemplateSource = {
  kind: "K8sGood",
  rego: `package k8sgood

import data.lib.helpers

violation[{"msg": msg, "details": {"image": img}}] {
  img := input.review.object.spec.containers[_].image
  not helpers.allowed(img)
  msg := sprintf("image %v is not from %v", [img, input.parameters.repos])
}
`,
  libs: [
    `package lib.helpers

allowed(img) {
  strings.any_prefix_match(img, input.parameters.repos)
}
`,
  ],
};

const POD = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns1" },
  spec: {
    containers: [
      { name: "c", image: "docker.io/nginx" },
      { name: "d", image: "mcr.microsoft.com/x" },
    ],
  },
};

describe("compileRegoTemplates without opa", () => {
  it("gives every template the same clear reason instead of failing", async () => {
    const results = await compileRegoTemplates([GOOD, { ...GOOD, kind: "K8sOther" }], {
      opa: "/nonexistent/bin/opa",
      cacheDir: await tempDir(),
    });
    expect([...results.keys()]).toEqual(["K8sGood", "K8sOther"]);
    for (const r of results.values()) {
      expect(r).toEqual({
        ok: false,
        reason: "the opa CLI is not installed, so Rego templates cannot be compiled",
        hint: "install it (npm run peers installs the pinned one) or use templates with a K8sNativeValidation (CEL) code path",
      });
    }
  });
});

withOpa("compileRegoTemplates with opa", () => {
  it("evaluates with libs, parameters, details and Go-formatted messages", async () => {
    const results = await compileRegoTemplates([GOOD], { opa: OPA, cacheDir: await tempDir() });
    const good = results.get("K8sGood");
    if (!good?.ok) throw new Error(good?.reason);
    const violations = good.program.evaluate({
      review: gatekeeperReview(POD),
      parameters: { repos: ["mcr.microsoft.com/"] },
    });
    expect(violations).toEqual([
      {
        msg: 'image docker.io/nginx is not from ["mcr.microsoft.com/"]',
        details: { image: "docker.io/nginx" },
      },
    ]);
  });

  it("reports a broken template with its line and still compiles the others", async () => {
    const broken: RegoTemplateSource = {
      kind: "K8sBroken",
      rego: 'package broken\n\nviolation[{"msg": msg}] {\n  msg := concat("", [1]\n}\n',
    };
    const typo: RegoTemplateSource = {
      kind: "K8sTypo",
      rego: 'package typo\nviolation[{"msg": msg}] {\n  msg := no_such_function(1)\n}\n',
    };
    const badLib: RegoTemplateSource = {
      kind: "K8sBadLib",
      rego: 'package badlib\nimport data.lib.x\nviolation[{"msg": "m"}] { x.f }\n',
      libs: ["package lib.x\n\nf { input.review.object.x = }\n"],
    };
    const noViolation: RegoTemplateSource = {
      kind: "K8sNoViolation",
      rego: "package none\nallow { true }\n",
    };
    const results = await compileRegoTemplates([broken, GOOD, typo, badLib, noViolation], {
      opa: OPA,
      cacheDir: await tempDir(),
    });
    expect(results.get("K8sGood")?.ok).toBe(true);
    const reason = (kind: string) => {
      const r = results.get(kind);
      return r && !r.ok ? r.reason : "compiled";
    };
    expect(reason("K8sBroken")).toMatch(/^K8sBroken: the Rego does not compile: rego:5: rego_parse_error: /);
    expect(reason("K8sTypo")).toMatch(/rego:3: rego_type_error: undefined function no_such_function/);
    expect(reason("K8sBadLib")).toMatch(/libs\[0\]:3: rego_parse_error/);
    expect(reason("K8sNoViolation")).toMatch(/defines no violation rule/);
  });

  it("falls back to one build per template when a batch fails in a way OPA does not attribute", async () => {
    const bin = await tempDir();
    const wrapper = join(bin, "opa");
    // An opa that refuses every build with more than one entrypoint, saying nothing about which.
    await writeFile(
      wrapper,
      `#!/bin/sh\nn=0\nfor a in "$@"; do [ "$a" = "-e" ] && n=$((n+1)); done\nif [ "$n" -gt 1 ]; then echo "error: internal error"; exit 1; fi\nexec "${OPA}" "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    const broken: RegoTemplateSource = {
      kind: "K8sBroken",
      rego: 'package b\nviolation[{"msg": "m"}] {\n  input.x ==\n}\n',
    };
    const results = await compileRegoTemplates(
      [GOOD, broken, { ...GOOD, kind: "K8sSame" }, { ...GOOD, rego: `${GOOD.rego}\n`, kind: "K8sTwin" }],
      {
        opa: wrapper,
        cacheDir: await tempDir(),
      },
    );
    expect(results.get("K8sGood")?.ok).toBe(true);
    expect(results.get("K8sSame")?.ok).toBe(true);
    expect(results.get("K8sTwin")?.ok).toBe(true);
    const b = results.get("K8sBroken");
    expect(b?.ok === false && b.reason).toMatch(
      /^K8sBroken: the Rego does not compile: rego:4: rego_parse_error/,
    );
  });

  it("compiles Rego v1 templates too, as Gatekeeper parses both", async () => {
    const v1: RegoTemplateSource = {
      kind: "K8sV1",
      rego: 'package v1\n\nviolation contains {"msg": msg} if {\n  some c in input.review.object.spec.containers\n  msg := c.name\n}\n',
    };
    const r = (await compileRegoTemplates([v1], { opa: OPA, cacheDir: await tempDir() })).get("K8sV1");
    if (!r?.ok) throw new Error(r?.reason);
    expect(
      r.program
        .evaluate({ review: gatekeeperReview(POD), parameters: {} })
        .map((v) => v.msg)
        .sort(),
    ).toEqual(["c", "d"]);
  });

  it("says precisely which templates cannot be evaluated and why", async () => {
    const external: RegoTemplateSource = {
      kind: "K8sExternal",
      rego: 'package ext\nviolation[{"msg": msg}] {\n  r := external_data({"provider": "p", "keys": ["k"]})\n  msg := sprintf("%v", [r])\n}\n',
    };
    const network: RegoTemplateSource = {
      kind: "K8sNetwork",
      rego: 'package net\nviolation[{"msg": "resolves"}] {\n  net.lookup_ip_addr(input.review.object.spec.host)\n}\n',
    };
    const results = await compileRegoTemplates([external, network, GOOD], {
      opa: OPA,
      cacheDir: await tempDir(),
    });
    const reason = (kind: string) => {
      const r = results.get(kind);
      return r && !r.ok ? r.reason : "compiled";
    };
    expect(reason("K8sExternal")).toMatch(/external_data builtin, which asks an external data provider/);
    expect(reason("K8sNetwork")).toMatch(
      /uses net\.lookup_ip_addr, which OPA does not compile into WebAssembly/,
    );
    expect(results.get("K8sGood")?.ok).toBe(true);
  });

  it("serves a second run from the cache without calling opa", async () => {
    const cacheDir = await tempDir();
    const bin = await tempDir();
    const calls = join(bin, "calls.log");
    const wrapper = join(bin, "opa");
    await writeFile(wrapper, `#!/bin/sh\necho "$1" >> "${calls}"\nexec "${OPA}" "$@"\n`);
    await chmod(wrapper, 0o755);
    const first = await compileRegoTemplates([GOOD], { opa: wrapper, cacheDir });
    expect(first.get("K8sGood")?.ok).toBe(true);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual(["version", "build"]);

    const again = await compileRegoTemplates([GOOD], { opa: wrapper, cacheDir });
    expect(again.get("K8sGood")?.ok).toBe(true);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual(["version", "build"]);

    // Where opa is missing altogether, what was compiled before still runs.
    const offline = (await compileRegoTemplates([GOOD], { opa: "/nonexistent/opa", cacheDir })).get(
      "K8sGood",
    );
    if (!offline?.ok) throw new Error(offline?.reason);
    expect(
      offline.program.evaluate({ review: gatekeeperReview(POD), parameters: { repos: ["docker.io/"] } }),
    ).toHaveLength(1);
  });

  it("misses the cache when the Rego, a lib or the OPA version changes, and rebuilds a corrupt entry", async () => {
    const cacheDir = await tempDir();
    const bin = await tempDir();
    const calls = join(bin, "calls.log");
    const builds = async () =>
      (await readFile(calls, "utf8")).split("\n").filter((c) => c === "build").length;
    // Two opa binaries that differ only in the version they report (the same real opa builds for both).
    const opaReporting = async (name: string, version?: string) => {
      const path = join(bin, name);
      const versionLine = version
        ? `if [ "$1" = version ]; then echo "version" >> "${calls}"; echo "Version: ${version}"; exit 0; fi\n`
        : "";
      await writeFile(path, `#!/bin/sh\n${versionLine}echo "$1" >> "${calls}"\nexec "${OPA}" "$@"\n`);
      await chmod(path, 0o755);
      return path;
    };
    const real = await opaReporting("opa");
    const other = await opaReporting("opa-next", "9.9.9-next");
    const evaluate = (r: RegoCompileResult | undefined, repos: string[]) => {
      if (!r?.ok) throw new Error(r?.reason);
      return r.program.evaluate({ review: gatekeeperReview(POD), parameters: { repos } });
    };

    expect(
      evaluate((await compileRegoTemplates([GOOD], { opa: real, cacheDir })).get("K8sGood"), ["docker.io/"]),
    ).toHaveLength(1);
    expect(await builds()).toBe(1);
    // Same sources, same opa: a hit.
    await compileRegoTemplates([GOOD], { opa: real, cacheDir });
    expect(await builds()).toBe(1);
    // Another OPA version never reuses what this one compiled.
    await compileRegoTemplates([GOOD], { opa: other, cacheDir });
    expect(await builds()).toBe(2);
    // A changed message (one character of Rego) is a new template: compiled, and its own message is seen.
    const changed = { ...GOOD, rego: GOOD.rego.replace("is not from", "is not served from") };
    expect(changed.rego).not.toBe(GOOD.rego);
    const msgs = evaluate(
      (await compileRegoTemplates([changed], { opa: real, cacheDir })).get("K8sGood"),
      [],
    );
    expect(await builds()).toBe(3);
    expect(msgs[0]?.msg).toBe("image docker.io/nginx is not served from []");
    // A changed lib too.
    const libChanged = { ...GOOD, libs: (GOOD.libs ?? []).map((l) => `${l}\n# changed\n`) };
    await compileRegoTemplates([libChanged], { opa: real, cacheDir });
    expect(await builds()).toBe(4);
    // A corrupt entry (a torn or foreign write) is ignored and rebuilt, never a failure.
    for (const n of readdirSync(cacheDir).filter((f) => f.endsWith(".json")))
      await writeFile(join(cacheDir, n), "{ not json");
    expect(
      evaluate((await compileRegoTemplates([GOOD], { opa: real, cacheDir })).get("K8sGood"), ["docker.io/"]),
    ).toHaveLength(1);
    expect(await builds()).toBe(5);
  });

  it("verifies a cached module before use: tampered bytes are recompiled with opa and never run without it", async () => {
    const cacheDir = await tempDir();
    const first = await compileRegoTemplates([GOOD], { opa: OPA, cacheDir });
    expect(first.get("K8sGood")?.ok).toBe(true);
    const wasm = readdirSync(cacheDir).filter((n) => n.endsWith(".wasm"));
    expect(wasm).toHaveLength(1);
    const entries = readdirSync(cacheDir).filter((n) => n.endsWith(".json") && !n.startsWith("opa-"));
    expect(JSON.parse(readFileSync(join(cacheDir, entries[0]!), "utf8")).sha256).toBe(wasm[0]!.slice(0, -5));
    // Someone rewrites the module in place (a planted policy that allows everything).
    await writeFile(join(cacheDir, wasm[0]!), Buffer.from("\0asm\x01\0\0\0"));
    const offline = (await compileRegoTemplates([GOOD], { opa: "/nonexistent/opa", cacheDir })).get(
      "K8sGood",
    );
    expect(offline?.ok).toBe(false);
    const again = (await compileRegoTemplates([GOOD], { opa: OPA, cacheDir })).get("K8sGood");
    if (!again?.ok) throw new Error(again?.reason);
    expect(
      again.program.evaluate({ review: gatekeeperReview(POD), parameters: { repos: ["docker.io/"] } }),
    ).toHaveLength(1);
  });

  it("keeps the cache in the user's cache directory by default, and refuses one others can write", async () => {
    expect(defaultRegoCacheDir({ XDG_CACHE_HOME: "/x/cache" })).toBe("/x/cache/platform/rego");
    expect(defaultRegoCacheDir({})).toBe(join(homedir(), ".cache", "platform", "rego"));
    expect(defaultRegoCacheDir({})).not.toContain(tmpdir());
    // In Actions, the runner's tool cache (kept between jobs on self-hosted runners); outside Actions it is ignored.
    expect(defaultRegoCacheDir({ GITHUB_ACTIONS: "true", RUNNER_TOOL_CACHE: "/opt/tools" })).toBe(
      "/opt/tools/platform/rego",
    );
    expect(defaultRegoCacheDir({ RUNNER_TOOL_CACHE: "/opt/tools", XDG_CACHE_HOME: "/x/cache" })).toBe(
      "/x/cache/platform/rego",
    );
    const shared = await tempDir();
    await chmod(shared, 0o777);
    await compileRegoTemplates([GOOD], { opa: OPA, cacheDir: shared });
    expect(readdirSync(shared).filter((n) => n.endsWith(".wasm"))).toEqual([]);
  });

  it("implements the host built-ins OPA leaves to JavaScript", async () => {
    const t: RegoTemplateSource = {
      kind: "K8sBuiltins",
      rego: `package b
violation[{"msg": msg}] {
  msg := sprintf("%v %v %v %v %v %v %v", [
    units.parse_bytes("1.5Gi"), units.parse("100m"), units.parse("2Ki"),
    strings.any_suffix_match(["a.io", "b.com"], ".com"), strings.count("banana", "a"),
    regex.replace("a1b22", "[0-9]+", "#"), regex.find_n("[0-9]+", "a1b22c333", 2),
  ])
}
violation[{"msg": "bad quantity is undefined, not an error"}] {
  units.parse_bytes("12 Mi")
}
`,
    };
    const r = (await compileRegoTemplates([t], { opa: OPA, cacheDir: await tempDir() })).get("K8sBuiltins");
    if (!r?.ok) throw new Error(r?.reason);
    expect(r.program.evaluate({ review: {}, parameters: {} }).map((v) => v.msg)).toEqual([
      '1610612736 0.1 2048 true 3 a#b# ["1", "22"]',
    ]);
  });

  it("sees data.inventory, and reloads it only when it changes", async () => {
    const t: RegoTemplateSource = {
      kind: "K8sUniqueName",
      rego: `package u
violation[{"msg": msg}] {
  other := data.inventory.namespace[ns][_]["Pod"][name]
  ns != input.review.object.metadata.namespace
  name == input.review.object.metadata.name
  msg := sprintf("pod name %v is also used in %v", [name, ns])
}
`,
    };
    const r = (await compileRegoTemplates([t], { opa: OPA, cacheDir: await tempDir() })).get("K8sUniqueName");
    if (!r?.ok) throw new Error(r?.reason);
    const inventory = gatekeeperInventory([{ ...POD, metadata: { name: "p", namespace: "other" } }]);
    expect(inventory).toEqual({
      cluster: {},
      namespace: { other: { v1: { Pod: { p: { ...POD, metadata: { name: "p", namespace: "other" } } } } } },
    });
    const input = { review: gatekeeperReview(POD), parameters: {} };
    expect(r.program.evaluate(input, { inventory }).map((v) => v.msg)).toEqual([
      "pod name p is also used in other",
    ]);
    expect(r.program.evaluate(input)).toEqual([]);
    expect(r.program.evaluate(input, { inventory })).toHaveLength(1);
  });
});

describe("gatekeeperReview", () => {
  it("builds the request gator builds for a plain object", () => {
    expect(gatekeeperReview(POD)).toEqual({
      uid: "",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "", resource: "" },
      name: "p",
      namespace: "ns1",
      operation: "",
      userInfo: {},
      object: POD,
      oldObject: null,
      options: null,
      namespaceObject: {},
    });
    expect(get(gatekeeperReview({ apiVersion: "apps/v1", kind: "Deployment" }), "kind")).toEqual({
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
  });

  it("takes an AdmissionReview's request, with oldObject as object on DELETE", () => {
    const update = gatekeeperReview({
      apiVersion: "admission.k8s.io/v1beta1",
      kind: "AdmissionReview",
      request: { operation: "UPDATE", object: POD },
    });
    expect(update).toMatchObject({ operation: "UPDATE", object: POD, oldObject: null, kind: { kind: "" } });
    const del = gatekeeperReview({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { operation: "DELETE", oldObject: POD },
    });
    expect(del).toMatchObject({ operation: "DELETE", object: POD, oldObject: POD });
  });
});

describe("regoSource", () => {
  it("reads the Rego code path, or the legacy rego field", () => {
    const viaCode = {
      spec: {
        crd: { spec: { names: { kind: "K8sA" } } },
        targets: [
          {
            code: [
              { engine: "K8sNativeValidation", source: {} },
              { engine: "Rego", source: { rego: "r", libs: ["l"] } },
            ],
          },
        ],
      },
    };
    const legacy = { spec: { crd: { spec: { names: { kind: "K8sB" } } }, targets: [{ rego: "r2" }] } };
    const celOnly = {
      spec: {
        crd: { spec: { names: { kind: "K8sC" } } },
        targets: [{ code: [{ engine: "K8sNativeValidation" }] }],
      },
    };
    expect(regoSource(viaCode)).toEqual({ kind: "K8sA", rego: "r", libs: ["l"] });
    expect(regoSource(legacy)).toEqual({ kind: "K8sB", rego: "r2", libs: [] });
    expect(regoSource(celOnly)).toBeUndefined();
  });
});

describe("goSprintf", () => {
  it("formats like Go's fmt as OPA calls it (checked against gator)", () => {
    expect(
      goSprintf("%v %v %v %v %v", [["a", 1, 1.5, true, null, { z: 1, a: [2] }], 1, 2.5e-7, 1e22, "s"]),
    ).toBe('["a", 1, 1.5, true, null, {"a": [2], "z": 1}] 1 2.5e-07 1e+22 s');
    expect(goSprintf("%d|%5s|%-4d|%05d|%.2f|%x|%q|%T", [42, "ab", 7, -3, 1.236, 255, "hi", 1.5])).toBe(
      '42|   ab|7   |-0003|1.24|ff|"hi"|float64',
    );
    expect(goSprintf("%v %g %e", [1234567.5, 0.0001, 123.456])).toBe("1.2345675e+06 0.0001 1.234560e+02");
    expect(goSprintf("%d %s", ["x", 5])).toBe("%!d(string=x) %!s(int64=5)");
    expect(goSprintf("%v %v", ["one"])).toBe("one %!v(MISSING)");
    expect(goSprintf("%v", ["a", 2])).toBe("a%!(EXTRA int64=2)");
    expect(goSprintf("100%% %", [])).toBe("100% %!(NOVERB)");
  });
});
