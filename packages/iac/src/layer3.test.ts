// Layer 3 consumes what `platform team render` writes (bicep/layer3.parameters.json): the template's parameter
// types and the generated JSON must agree field for field, and the evaluated template must federate, name and
// grant exactly what the render lists.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BICEP_PARAMETERS, parseTeamsConfig, renderTeams, TOKEN_AUDIENCE } from "@platform/tenancy";
import { describe, expect, it } from "vitest";
import { randomConfig } from "../../../test/fixtures/teams.ts";
import { checkBicep } from "./check.ts";
import { BicepEvaluator, getProp, isObject, isUnknown } from "./evaluate.ts";
import { parseBicep, type SyntaxNode } from "./parser.ts";
import { idTarget } from "./rules/index.ts";
import type { Value } from "./types.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const LAYER3 = join(REPO, "infra-bicep", "layer3-team-onboarding");
const TEMPLATE = join(LAYER3, "main.bicep");
const GENERATED = join(REPO, "examples", "northwind", "teams", BICEP_PARAMETERS);
const ENVIRONMENTS = ["dev", "prod", "standby"];

/** A Bicep type as far as the JSON is concerned. */
type BicepType =
  | { kind: "string" | "int" | "bool" | "object" | "array-any" }
  | { kind: "array"; of: BicepType }
  | { kind: "ref"; name: string }
  | { kind: "shape"; props: Map<string, { type: BicepType; optional: boolean }> };

const named = (n: SyntaxNode) =>
  n.namedChildren.filter((c) => c.type !== "decorators" && c.type !== "comment");

function typeOf(node: SyntaxNode): BicepType {
  if (node.type === "type") return typeOf(named(node)[0]!);
  if (node.type === "primitive_type") {
    const t = node.text;
    if (t === "array") return { kind: "array-any" };
    if (t === "string" || t === "int" || t === "bool" || t === "object") return { kind: t };
  }
  if (node.type === "array_type") return { kind: "array", of: typeOf(named(node)[0]!) };
  if (node.type === "identifier") return { kind: "ref", name: node.text };
  if (node.type === "object") {
    const props = new Map<string, { type: BicepType; optional: boolean }>();
    for (const p of named(node)) {
      const [key, t] = named(p);
      const optional = t!.type === "nullable_type";
      props.set(key!.text, { type: typeOf(optional ? named(t!)[0]! : t!), optional });
    }
    return { kind: "shape", props };
  }
  throw new Error(`type form not handled by this test: ${node.type} (${node.text})`);
}

/** The template's user-defined types and the types of its params. */
async function templateTypes(text: string) {
  const tree = await parseBicep(text);
  const types = new Map<string, BicepType>();
  const params = new Map<string, BicepType>();
  for (const decl of named(tree.rootNode)) {
    const [name, t] = named(decl);
    if (decl.type === "type_declaration") types.set(name!.text, typeOf(t!));
    if (decl.type === "parameter_declaration") params.set(name!.text, typeOf(t!));
  }
  tree.delete();
  return { types, params };
}

/** Every disagreement between a JSON value and a Bicep type (sealed objects: no extra keys either). */
function disagreements(v: unknown, t: BicepType, types: Map<string, BicepType>, at: string): string[] {
  if (t.kind === "ref") return disagreements(v, types.get(t.name)!, types, at);
  if (t.kind === "string") return typeof v === "string" ? [] : [`${at}: not a string`];
  if (t.kind === "int") return Number.isInteger(v) ? [] : [`${at}: not an int`];
  if (t.kind === "bool") return typeof v === "boolean" ? [] : [`${at}: not a bool`];
  if (t.kind === "array-any") return Array.isArray(v) ? [] : [`${at}: not an array`];
  if (t.kind === "array")
    return Array.isArray(v)
      ? v.flatMap((x, i) => disagreements(x, t.of, types, `${at}[${i}]`))
      : [`${at}: not an array`];
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [`${at}: not an object`];
  if (t.kind !== "shape") return [];
  const out: string[] = [];
  for (const [key, p] of t.props) {
    if (!(key in v)) {
      if (!p.optional) out.push(`${at}.${key}: required by the template, absent in the render`);
    } else out.push(...disagreements((v as Record<string, unknown>)[key], p.type, types, `${at}.${key}`));
  }
  for (const key of Object.keys(v))
    if (!t.props.has(key)) out.push(`${at}.${key}: written by the render, not declared by the template`);
  return out;
}

const templateText = readFileSync(TEMPLATE, "utf8");
const northwindText = readFileSync(join(REPO, "examples", "northwind", "platform.yaml"), "utf8");

async function agreement(generated: { parameters: Record<string, { value: unknown }> }, text = templateText) {
  const { types, params } = await templateTypes(text);
  return Object.entries(generated.parameters).flatMap(([name, { value }]) => {
    const t = params.get(name);
    return t ? disagreements(value, t, types, name) : [`${name}: the template has no such param`];
  });
}

describe("layer 3 consumes the render's parameters", () => {
  it("the template's parameter types accept the committed Northwind render, field for field", async () => {
    expect(await agreement(JSON.parse(readFileSync(GENERATED, "utf8")))).toEqual([]);
  });

  it("and a fresh render of Northwind and of 40 random platform.yaml team sets", async () => {
    const configs = [
      parseTeamsConfig(northwindText, "platform.yaml"),
      ...Array.from({ length: 40 }, (_, i) => randomConfig(i + 1)),
    ];
    for (const config of configs) {
      const generated = JSON.parse(renderTeams(config).files.get(BICEP_PARAMETERS)!);
      expect(await agreement(generated)).toEqual([]);
    }
  });

  it("catches a drift either way: a field the render adds, or one the template requires", async () => {
    const generated = JSON.parse(readFileSync(GENERATED, "utf8"));
    generated.parameters.workloadIdentities.value[0].extra = "x";
    expect(await agreement(generated)).toEqual([
      "workloadIdentities[0].extra: written by the render, not declared by the template",
    ]);
    const stricter = templateText.replace("keyVaultName: string?\n}", "keyVaultName: string\n}");
    expect(stricter).not.toBe(templateText);
    const missing = await agreement(JSON.parse(readFileSync(GENERATED, "utf8")), stricter);
    expect(missing.length).toBeGreaterThan(0);
    for (const m of missing) expect(m).toMatch(/^teams\[\d+\]\.keyVaultName: required by the template/);
  });

  it.each(ENVIRONMENTS)("%s: the parameters file loads the render, with no hand-kept teams", (env) => {
    const text = readFileSync(join(LAYER3, "parameters", `${env}.bicepparam`), "utf8");
    expect(text).not.toMatch(/param teams = \[/);
    expect(text).toContain(
      "param teams = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.teams.value')",
    );
    expect(text).toContain(
      "param workloadIdentities = loadJsonContent('../../../examples/northwind/teams/bicep/layer3.parameters.json', '$.parameters.workloadIdentities.value')",
    );
  });

  it.each(ENVIRONMENTS)(
    "%s: one identity per service, federated to system:serviceaccount:<ns>:<sa> for api://AzureADTokenExchange",
    async (env) => {
      const generated = JSON.parse(readFileSync(GENERATED, "utf8"));
      const ids = generated.parameters.workloadIdentities.value as Array<{
        name: string;
        namespace: string;
        serviceAccount: string;
      }>;
      const r = await checkBicep([LAYER3], { root: REPO, environment: env });
      expect(r.findings).toEqual([]);
      const mine = r.resources.filter((x) => x.file === "infra-bicep/layer3-team-onboarding/main.bicep");
      expect(
        mine.filter((x) => x.type === "Microsoft.ManagedIdentity/userAssignedIdentities").map((x) => x.name),
      ).toEqual(ids.map((i) => i.name));
      const fics = mine.filter((x) => x.type.endsWith("/federatedIdentityCredentials"));
      expect(fics.map((x) => getProp(x.properties, "subject"))).toEqual(
        ids.map((i) => `system:serviceaccount:${i.namespace}:${i.serviceAccount}`),
      );
      for (const f of fics) expect(getProp(f.properties, "audiences")).toEqual([TOKEN_AUDIENCE]);
      // Each credential hangs off its own service's identity.
      expect(fics.map((x) => x.parent?.name)).toEqual(ids.map((i) => i.name));
      // No role assignment is declared in Bicep besides the render's grants (those go through the JSON module).
      expect(r.resources.filter((x) => x.type === "Microsoft.Authorization/roleAssignments")).toEqual([]);
      const vaults = r.resources.filter((x) => x.type === "Microsoft.KeyVault/vaults" && !x.existing);
      const declared = (generated.parameters.teams.value as Array<{ keyVaultName?: string }>).flatMap((t) =>
        t.keyVaultName ? [t.keyVaultName] : [],
      );
      expect(declared.length).toBeGreaterThan(0);
      expect(vaults.map((x) => x.name)).toEqual(env === "standby" ? [] : declared);
    },
  );

  it("grants exactly the render's role assignments, each a role the template knows, on its own resource", async () => {
    const generated = JSON.parse(readFileSync(GENERATED, "utf8"));
    const ids = generated.parameters.workloadIdentities.value as Array<{
      roleAssignments: Array<{ role: string; scope?: string; keyVaultName?: string }>;
    }>;
    const tree = await parseBicep(templateText);
    const values = new Map<string, Value>([
      ["teams", generated.parameters.teams.value],
      ["workloadIdentities", generated.parameters.workloadIdentities.value],
      ["teamVaultResourceGroupName", "rg-plat-prod-westeurope"],
    ]);
    const ev = new BicepEvaluator("main.bicep", tree.rootNode, values);
    const grants = ev.symbol("grants");
    const roles = ev.symbol("builtInRoles");
    tree.delete();
    expect(Array.isArray(grants)).toBe(true);
    const expected = ids.flatMap((w, i) => w.roleAssignments.map((r) => ({ identity: i, ...r })));
    expect(expected.length).toBeGreaterThan(0);
    expect((grants as Value[]).length).toBe(expected.length);
    (grants as Value[]).forEach((g, k) => {
      const want = expected[k]!;
      expect(getProp(g, "identity")).toBe(want.identity);
      expect(getProp(g, "role")).toBe(want.role);
      const scope = getProp(g, "scope");
      if (want.scope) expect(scope).toBe(want.scope);
      else {
        // The team vault, by name: resourceId() is known only at deployment, its target is not.
        expect(isUnknown(scope)).toBe(true);
        expect(idTarget(scope)).toEqual({ type: "Microsoft.KeyVault/vaults", name: want.keyVaultName });
      }
      expect(isObject(roles) && typeof getProp(roles, want.role)).toBe("string");
    });
  });
});
