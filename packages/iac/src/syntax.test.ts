// What the Bicep compiler accepts is never a parse error here, and what the evaluator cannot see is unknown,
// never absent (issue 19). Each case below failed before its fix.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkBicep } from "./check.ts";
import { BicepEvaluator, getProp, isUnknown } from "./evaluate.ts";
import { parseBicep, shimBicep, syntaxErrors } from "./parser.ts";
import { fixtureFolders } from "./testing.ts";
import type { CheckResult, Value } from "./types.ts";

const write = fixtureFolders("iac-syntax-");

async function check(files: Record<string, string>, parameters?: string): Promise<CheckResult> {
  const root = await write(files);
  const bicep = Object.keys(files).filter((f) => f.endsWith(".bicep"));
  return checkBicep(bicep, { root, ...(parameters ? { parameters } : {}) });
}

/** The values of a file's vars, as the evaluator sees them. */
async function vars(
  text: string,
  names: string[],
  params = new Map<string, Value>(),
): Promise<{ errors: ReturnType<typeof syntaxErrors> } & Record<string, unknown>> {
  const tree = await parseBicep(text);
  const errors = syntaxErrors(tree);
  const ev = new BicepEvaluator("main.bicep", tree.rootNode, params);
  const out = Object.fromEntries(names.map((n) => [n, ev.symbol(n)]));
  tree.delete();
  return { errors, ...out };
}

const verdicts = (r: CheckResult, rule?: string) =>
  r.findings.filter((f) => !rule || f.rule === rule).map((f) => [f.rule, f.verdict, f.line]);

const PRIVATE_ZONE =
  "/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.westeurope.azmk8s.io";

describe("syntax newer than tree-sitter-bicep 1.1.0", () => {
  it("a string starting with // or holding /* is a string, not a comment (aks-baseline alerts.bicep)", async () => {
    const text = [
      "var a = '//x'",
      "var b = 'https://example.com/*/y'",
      "var c = '''",
      "// not a comment",
      "'''",
      "// a comment that isn't a string",
      "var d = 'after'",
    ].join("\n");
    const r = await vars(text, ["a", "b", "c", "d"]);
    expect(r.errors).toEqual([]);
    expect([r.a, r.b, r.c, r.d]).toEqual(["//x", "https://example.com/*/y", "// not a comment\n", "after"]);
  });

  it("reads the spread ...expr in objects and arrays, later keys winning", async () => {
    const text = [
      "var base = { a: 1, b: 2 }",
      "var o = {",
      "  ...base",
      "  b: 3",
      "  ...{ c: 4 }",
      "}",
      "var inline = { a: 0, ...base }",
      "var xs = [0, ...[1, 2], 3]",
    ].join("\n");
    const r = await vars(text, ["o", "inline", "xs"]);
    expect(r.errors).toEqual([]);
    expect(r.o).toEqual({ a: 1, b: 3, c: 4 });
    expect(r.inline).toEqual({ a: 1, b: 2 });
    expect(r.xs).toEqual([0, 1, 2, 3]);
  });

  it("a spread of an unknown value leaves every key it may set unknown, and absent keys unknown", async () => {
    const r = await vars("param p object\nvar o = {\n  a: 1\n  ...p\n  b: 2\n}\nvar xs = [1, ...p]\n", [
      "o",
      "xs",
    ]);
    expect(r.errors).toEqual([]);
    expect(isUnknown(getProp(r.o as Value, "a"))).toBe(true);
    expect(getProp(r.o as Value, "b")).toBe(2);
    expect(isUnknown(getProp(r.o as Value, "anything"))).toBe(true);
    expect(isUnknown(r.xs as Value)).toBe(true);
  });

  it("reads resourceInput<'…'> / resourceOutput<'…'> types with property access, typed optionals and postfix !", async () => {
    const text = [
      "type pool = {",
      "  name: string",
      "  zones: string[]?",
      "}",
      "param profile resourceInput<'Microsoft.ContainerService/managedClusters@2025-10-01'>.properties.autoUpgradeProfile = {",
      "  upgradeChannel: 'stable'",
      "}",
      "param pools resourceInput<'Microsoft.ContainerService/managedClusters@2025-10-01'>.properties.agentPoolProfiles?",
      "param out resourceOutput<'Microsoft.KeyVault/vaults@2024-11-01'>.properties?",
      "param maybe string?",
      "var channel = profile!.upgradeChannel",
      "var n = (maybe ?? 'x')!",
    ].join("\n");
    const r = await vars(text, ["channel", "n"]);
    expect(r.errors).toEqual([]);
    expect(r.channel).toBe("stable");
    expect(r.n).toBe("x");
  });

  it("the rewrite keeps every offset and line: findings point at the source as written (corpus and infra-bicep)", () => {
    const repo = join(import.meta.dirname, "..", "..", "..");
    const files = ["test/fixtures/bicep-corpus", "infra-bicep"].flatMap((d) =>
      readdirSync(join(repo, d), { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile() && /\.bicep(param)?$/.test(f.name))
        .map((f) => join(f.parentPath, f.name)),
    );
    expect(files.length).toBeGreaterThan(40);
    let rewritten = 0;
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const shimmed = shimBicep(text).text;
      expect(shimmed.length, f).toBe(text.length);
      const newlines = (t: string) => [...t.matchAll(/\n/g)].map((m) => m.index);
      expect(newlines(shimmed), f).toEqual(newlines(text));
      if (shimmed !== text) rewritten++;
    }
    expect(rewritten).toBeGreaterThan(0);
  });

  it("still reports what is not Bicep at all as a parse error, at its line (fail closed)", async () => {
    const r = await check({ "main.bicep": "var ok = 1\nvar x = {\n  a: ]\n}\n" });
    expect(r.findings.map((f) => [f.rule, f.verdict, f.line])).toContainEqual([
      "Platform.IaC.ParseError",
      "error",
      3,
    ]);
  });
});

const AKS_OPEN = `param props object
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks'
  properties: union(props, {
    disableLocalAccounts: true
  })
}
`;

describe("a value the evaluator cannot see is unknown, never absent", () => {
  it("properties: union(a, b) with an unknown a: no rule says absent (AKS-Construction)", async () => {
    const r = await check({ "main.bicep": AKS_OPEN });
    // Nothing under properties is judged absent (what fails is outside it: sku, children, diagnostics).
    expect(r.findings.filter((f) => f.verdict === "fail" && f.field?.startsWith("properties"))).toEqual([]);
    for (const rule of ["Azure.AKS.MinNodeCount", "Platform.AKS.PrivateDNSZone", "Azure.AKS.AutoScaling"])
      expect(verdicts(r, rule), rule).toEqual([[rule, "unknown", expect.any(Number)]]);
    expect(verdicts(r, "Azure.AKS.LocalAccounts")).toEqual([]);
  });

  it("union() of known objects merges as ARM does: later keys win, nested objects merge", async () => {
    const r = await vars(
      "var a = { x: 1, n: { p: 1, q: [1] } }\nvar b = { y: 2, n: { q: [2] } }\nvar u = union(a, b)\nvar l = union([1, 2], [2, 3])\n",
      ["u", "l"],
    );
    expect(r.u).toEqual({ x: 1, y: 2, n: { p: 1, q: [2] } });
    expect(r.l).toEqual([1, 2, 3]);
  });

  it("union(unknown, known): the known keys win, what they nest may still come from the unknown", async () => {
    const r = await vars(
      "param p object\nvar u = union(p, { a: 1, s: { w: true } })\nvar v = union({ a: 0, b: 0 }, p, { a: 1 })\n",
      ["u", "v"],
    );
    expect(getProp(r.u as Value, "a")).toBe(1);
    const s = getProp(r.u as Value, "s");
    expect(getProp(s, "w")).toBe(true);
    expect(isUnknown(getProp(s, "defender"))).toBe(true);
    expect(isUnknown(getProp(r.u as Value, "other"))).toBe(true);
    expect(getProp(r.v as Value, "a")).toBe(1);
    expect(isUnknown(getProp(r.v as Value, "b"))).toBe(true);
  });

  it("an object key known only at deployment makes the object's other keys possibly present", async () => {
    const r = await vars(`param k string\nvar o = {\n  '\${k}': true\n  a: 1\n}\n`, ["o"]);
    expect(getProp(r.o as Value, "a")).toBe(1);
    expect(isUnknown(getProp(r.o as Value, "enabled"))).toBe(true);
  });

  it("parameters files name parameters case-insensitively, as ARM does (AKS-Construction aksDisableLocalAccounts)", async () => {
    const r = await check(
      {
        "main.bicep": `param AksDisableLocalAccounts bool = false
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks'
  properties: { disableLocalAccounts: AksDisableLocalAccounts }
}
`,
        "p.json": JSON.stringify({ parameters: { aksDisableLocalAccounts: { value: true } } }),
      },
      "p.json",
    );
    expect(verdicts(r, "Azure.AKS.LocalAccounts")).toEqual([]);
    expect(getProp(r.resources[0]!.properties, "disableLocalAccounts")).toBe(true);
  });

  it("Azure.AKS.NodeAutoUpgrade: absent is unknown (AKS picks the channel), 'Unmanaged' fails", async () => {
    const aks = (profile: string) => `resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks'
  properties: { autoUpgradeProfile: ${profile} }
}
`;
    expect(
      verdicts(
        await check({ "main.bicep": aks("{ upgradeChannel: 'stable' }") }),
        "Azure.AKS.NodeAutoUpgrade",
      ),
    ).toEqual([["Azure.AKS.NodeAutoUpgrade", "unknown", 3]]);
    expect(
      verdicts(
        await check({ "main.bicep": aks("{ nodeOSUpgradeChannel: 'Unmanaged' }") }),
        "Azure.AKS.NodeAutoUpgrade",
      ),
    ).toEqual([["Azure.AKS.NodeAutoUpgrade", "fail", 3]]);
    expect(
      verdicts(
        await check({ "main.bicep": aks("{ nodeOSUpgradeChannel: 'SecurityPatch' }") }),
        "Azure.AKS.NodeAutoUpgrade",
      ),
    ).toEqual([]);
  });

  it("Platform.AKS.PrivateDNSZone does not apply to a public API server (Azure.AKS.PrivateCluster reports it)", async () => {
    const aks = (access: string) => `resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: 'aks'
  properties: { apiServerAccessProfile: ${access} }
}
`;
    const pub = await check({ "main.bicep": aks("{ enablePrivateCluster: false, privateDNSZone: '' }") });
    expect(verdicts(pub, "Platform.AKS.PrivateDNSZone")).toEqual([]);
    expect(verdicts(await check({ "main.bicep": aks("null") }), "Platform.AKS.PrivateDNSZone")).toEqual([]);
    expect(verdicts(pub, "Azure.AKS.PrivateCluster")).toEqual([["Azure.AKS.PrivateCluster", "fail", 3]]);
    const system = await check({
      "main.bicep": aks("{ enablePrivateCluster: true, privateDNSZone: 'system' }"),
    });
    expect(verdicts(system, "Platform.AKS.PrivateDNSZone")).toEqual([
      ["Platform.AKS.PrivateDNSZone", "fail", 3],
    ]);
    const hub = await check({
      "main.bicep": aks(`{ enablePrivateCluster: true, privateDNSZone: '${PRIVATE_ZONE}' }`),
    });
    expect(verdicts(hub, "Platform.AKS.PrivateDNSZone")).toEqual([]);
  });
});

describe("symbolic references", () => {
  it("privateLinkServiceId: kv.id resolves the symbol even when the vault's name is uniqueString() (aks-baseline)", async () => {
    const r = await check({
      "main.bicep": `resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-\${uniqueString(resourceGroup().id)}'
  properties: {
    enableRbacAuthorization: true
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny' }
  }
}
resource other 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: 'kv-\${uniqueString(subscription().id)}'
}
resource pe 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: 'pe'
  properties: {
    privateLinkServiceConnections: [{ name: 'vault', properties: { privateLinkServiceId: kv.id, groupIds: ['vault'] } }]
  }
  resource dns 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: 'vault', properties: { privateDnsZoneId: '/subscriptions/0/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net' } }]
    }
  }
}
`,
    });
    expect(verdicts(r, "Platform.KeyVault.PrivateEndpoint")).toEqual([]);
    expect(r.findings).toEqual([]);
  });

  it("parent: sym[i] names a loop element (its name resolved through the loop)", async () => {
    const r = await check({
      "main.bicep": `var ids = ['a', 'b']
resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [for n in ids: { name: 'id-\${n}' }]
resource fic 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30' = [for (n, i) in ids: {
  parent: uami[i]
  name: 'fc-\${n}'
  properties: { audiences: ['api://AzureADTokenExchange'], subject: 'system:serviceaccount:ns:\${n}' }
}]
`,
    });
    const fics = r.resources.filter((x) => x.type.endsWith("/federatedIdentityCredentials"));
    expect(fics.map((x) => [x.name, x.parent?.name])).toEqual([
      ["id-a/fc-a", "id-a"],
      ["id-b/fc-b", "id-b"],
    ]);
  });
});

describe("functions the compiler evaluates at build time", () => {
  it("lambdas: map, filter, reduce, toObject; and flatten, array(), json(), split/join/take/skip", async () => {
    const text = [
      "var xs = [1, 2, 3]",
      "var m = map(xs, x => x * 2)",
      "var mi = map(xs, (x, i) => i)",
      "var f = filter(xs, x => x > 1)",
      "var r = reduce(xs, 0, (acc, x) => acc + x)",
      "var o = toObject(['a', 'b'], k => k, k => length(k))",
      "var fl = flatten(map(range(0, 2), i => map(xs, x => i)))",
      "var ar = array('x')",
      "var j = json('null')",
      "var s = join(take(skip(split('a/b/c/d', '/'), 1), 2), '-')",
    ].join("\n");
    const r = await vars(text, ["m", "mi", "f", "r", "o", "fl", "ar", "j", "s"]);
    expect(r.errors).toEqual([]);
    expect([r.m, r.mi, r.f, r.r, r.o, r.fl, r.ar, r.j, r.s]).toEqual([
      [2, 4, 6],
      [0, 1, 2],
      [2, 3],
      6,
      { a: 1, b: 1 },
      [0, 0, 0, 1, 1, 1],
      ["x"],
      null,
      "b-c",
    ]);
  });

  it("loadJsonContent/loadTextContent read beside the file, inside the workspace only", async () => {
    const ok = await check(
      {
        "data.json": JSON.stringify({ a: { b: [{ name: "kv-x" }] } }),
        "main.bicep": [
          "param p object",
          "var v = loadJsonContent('data.json', '$.a.b[0]')",
          "var t = loadTextContent('data.json')",
          "resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {",
          "  name: v.name",
          "  tags: { t: t, p: p.b[0].name }",
          "}",
        ].join("\n"),
        "main.bicepparam": "using 'main.bicep'\nparam p = loadJsonContent('data.json', '$.a')\n",
      },
      "main.bicepparam",
    );
    expect(ok.findings).toEqual([]);
    expect(ok.resources.map((x) => [x.name, getProp(x.body, "tags")])).toEqual([
      ["kv-x", { t: JSON.stringify({ a: { b: [{ name: "kv-x" }] } }), p: "kv-x" }],
    ]);
    const tree = await parseBicep("var v = loadJsonContent('data.json', '$.a.b[0].name')\n");
    const ev = new BicepEvaluator("main.bicep", tree.rootNode, new Map(), (path) =>
      path === "data.json" ? JSON.stringify({ a: { b: [{ name: "kv-x" }] } }) : "",
    );
    expect(ev.symbol("v")).toBe("kv-x");
    tree.delete();
    // Read when used, as the evaluator reads everything (a resource property uses it here).
    const uses = (v: string) =>
      `resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {\n  name: 'id'\n  tags: ${v}\n}\n`;
    const outside = await check({
      "main.bicep": `var x = 1\nvar v = loadJsonContent('../../../etc/passwd')\n${uses("v")}`,
    });
    expect(outside.findings.map((f) => [f.rule, f.line, f.message])).toEqual([
      ["Platform.IaC.ReadError", 2, expect.stringMatching(/outside the workspace|no such file/)],
    ]);
    const missing = await check({ "main.bicep": `var v = loadJsonContent('nope.json')\n${uses("v")}` });
    expect(missing.findings.map((f) => [f.rule, f.line, f.message])).toEqual([
      ["Platform.IaC.ReadError", 1, "cannot load 'nope.json': no such file"],
    ]);
  });
});
