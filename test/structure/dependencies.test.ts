// The package graph (issue 18): @platform/core is the bottom of every package and carries no Azure SDK; the Azure
// credential and the GitHub OIDC exchange live in @platform/azure, which only the packages that sign in depend
// on. Read from each workspace's package.json and checked against the imports in its source, so neither the
// declared graph nor this list can drift from the code.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const workspaces = [
  ...["packages", "actions"].flatMap((group) =>
    readdirSync(join(REPO_ROOT, group)).map((name) => join(group, name)),
  ),
  "test",
].map((dir) => ({
  dir,
  manifest: JSON.parse(readFileSync(join(REPO_ROOT, dir, "package.json"), "utf8")) as Manifest,
}));
const byName = new Map(workspaces.map((w) => [w.manifest.name, w]));

/** The packages whose code signs in to Azure (ACR, Key Vault, ARM, managed Prometheus) or asks GitHub for an OIDC token. */
const SIGNS_IN = [
  "@platform/signing", // Key Vault keys, ACR, keyless signing's GitHub OIDC token
  "@platform/scan", // build-scan pushes to ACR and reads Defender findings
  "@platform/cli", // platform sign / upgrade / canary / dr
  "@platform/action-canary-gate", // managed Prometheus
  "@platform/action-cluster-upgrade", // ARM
  "@platform/test", // integration tests and benchmarks sign in against the Entra fake
].sort();
/** …and the ones that sign in through one of those (the sign, verify and build-scan actions). */
const SIGNS_IN_THROUGH = ["@platform/action-build-scan", "@platform/action-sign", "@platform/action-verify"];

const AZURE_SDK = /^@azure\//;
const deps = (m: Manifest, dev = false) =>
  Object.keys({ ...m.dependencies, ...m.peerDependencies, ...(dev ? m.devDependencies : {}) });

/** Source files of a workspace (tests included or not), with the package specifiers they import. */
function imports(dir: string, { tests }: { tests: boolean }): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const root = join(REPO_ROOT, dir);
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|mjs)$/.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    const rel = relative(root, file);
    if (/(^|\/)(node_modules|dist|fixtures)\//.test(rel)) continue;
    if (!tests && /\.test\.ts$/.test(entry.name)) continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)"(@platform\/[^"/]+|@azure\/[^"/]+)[^"]*"/g)) {
      const spec = m[1]!;
      if (!found.has(spec)) found.set(spec, new Set());
      found.get(spec)!.add(rel);
    }
  }
  return found;
}

/** Workspace packages reachable from `name` through dependencies (not devDependencies), itself included. */
function closure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const w = byName.get(name);
  if (w) for (const d of deps(w.manifest)) if (byName.has(d)) closure(d, seen);
  return seen;
}

describe("package graph: the Azure SDK stays out of @platform/core", () => {
  it("@platform/core depends on no @azure/* package and imports none", () => {
    const core = byName.get("@platform/core")!;
    expect(deps(core.manifest, true).filter((d) => AZURE_SDK.test(d))).toEqual([]);
    expect([...imports(core.dir, { tests: true }).keys()].filter((s) => AZURE_SDK.test(s))).toEqual([]);
  });

  it("only the packages that sign in depend on @platform/azure", () => {
    const dependents = workspaces
      .filter((w) => deps(w.manifest).includes("@platform/azure"))
      .map((w) => w.manifest.name)
      .sort();
    expect(dependents).toEqual(SIGNS_IN);
  });

  it("only @platform/azure depends on @azure/identity, and only sign-in packages reach it", () => {
    const direct = workspaces.filter((w) => deps(w.manifest, true).includes("@azure/identity"));
    expect(direct.map((w) => w.manifest.name)).toEqual(["@platform/azure"]);
    const reaching = workspaces
      .filter((w) => w.manifest.name !== "@platform/azure" && closure(w.manifest.name).has("@platform/azure"))
      .map((w) => w.manifest.name)
      .sort();
    // Everything else — core, policy, gitops, iac, tenancy, canary, aks, oci, dr, github and the policy-dry-run
    // and digest-bump actions — never has @azure/identity in its dependency graph.
    expect(reaching).toEqual([...SIGNS_IN, ...SIGNS_IN_THROUGH].sort());
  });

  it.each(workspaces)(
    "$manifest.name declares every @platform/* and @azure/* package its code imports",
    ({ dir, manifest }) => {
      const ownName = manifest.name;
      for (const [spec, files] of imports(dir, { tests: false })) {
        if (spec === ownName) continue;
        expect(deps(manifest), `${[...files].join(", ")} in ${dir} import ${spec}`).toContain(spec);
      }
      for (const [spec, files] of imports(dir, { tests: true })) {
        if (spec === ownName) continue;
        expect(deps(manifest, true), `${[...files].join(", ")} in ${dir} import ${spec}`).toContain(spec);
      }
    },
  );

  it("importing @platform/azure loads no @azure/identity or MSAL until a token is requested", async () => {
    // What a bundle parses at start-up when it imports the package: the entry chunk and its static imports.
    const result = await build({
      entryPoints: [join(REPO_ROOT, "packages", "azure", "src", "index.ts")],
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      write: false,
      metafile: true,
      outdir: join(REPO_ROOT, "packages", "azure", "dist-structure-test"),
      logLevel: "silent",
    });
    const outputs = result.metafile.outputs;
    const entry = Object.keys(outputs).find((o) => outputs[o]!.entryPoint?.endsWith("index.ts"))!;
    const startup = new Set<string>();
    const visit = (o: string) => {
      if (startup.has(o)) return;
      startup.add(o);
      for (const i of outputs[o]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
    };
    visit(entry);
    const loaded = [...startup].flatMap((o) => Object.keys(outputs[o]!.inputs));
    expect(loaded.some((i) => i.includes("packages/azure/src/lazy.ts"))).toBe(true);
    expect(loaded.filter((i) => /@azure[/\\](identity|msal-)/.test(i))).toEqual([]);
    // The credential is there, in a chunk of its own that the first token request loads.
    const all = Object.values(outputs).flatMap((o) => Object.keys(o.inputs));
    expect(all.some((i) => /@azure[/\\]identity[/\\]/.test(i))).toBe(true);
  });
});
