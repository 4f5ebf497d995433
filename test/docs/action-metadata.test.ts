import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { actionNames, parsePermissions } from "../../scripts/action-docs.mjs";
import { REPO_ROOT } from "../peers/index.ts";

const require = createRequire(import.meta.url);
const names = actionNames(REPO_ROOT);
const read = (name: string) => readFileSync(join(REPO_ROOT, "actions", name, "action.yml"), "utf8");

interface Input {
  description?: string;
  required?: boolean;
  default?: string;
}
interface ActionYml {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs?: Record<string, Input>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string };
}
const metas = new Map(names.map((n) => [n, parse(read(n)) as ActionYml]));

// GITHUB_TOKEN's permission scopes (workflow syntax: jobs.<id>.permissions).
const SCOPES = new Set([
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "security-events",
  "statuses",
]);

describe("action metadata rules, on every actions/*/action.yml", () => {
  it("finds the actions", () => {
    expect(names.length).toBeGreaterThanOrEqual(7);
  });

  it.each(names)("%s: valid against GitHub's action metadata schema (SchemaStore)", (name) => {
    const schema = JSON.parse(
      readFileSync(require.resolve("schemastore/schemas/json/github-action.json"), "utf8"),
    );
    // The schemastore package (0.2.2, its newest release) predates GitHub's node20 and node24 runtimes;
    // everything else in the schema (keys, branding icons and colours) is taken as published.
    schema.definitions["runs-javascript"].properties.using.enum.push("node20", "node24");
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const ok = validate(metas.get(name));
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each(names)(
    "%s: a `Platform: <Verb phrase>` name and a description of at most 125 characters",
    (name) => {
      const meta = metas.get(name)!;
      expect(meta.name).toMatch(/^Platform: [A-Z][a-z]+(?:[ -](?:&|[a-z]+))*$/);
      expect(meta.description.length, meta.description).toBeLessThanOrEqual(125);
      expect(meta.description).toMatch(/^[A-Z].*\.$/);
    },
  );

  it("names, branding icons and branding colours are each distinct across actions", () => {
    const all = [...metas.values()];
    const distinct = (xs: string[]) => expect(new Set(xs).size, xs.join(", ")).toBe(xs.length);
    distinct(all.map((m) => m.name));
    distinct(all.map((m) => m.branding.icon));
    distinct(all.map((m) => m.branding.color));
  });

  it.each(names)("%s: every input and output is described; runs on node24 from dist/", (name) => {
    const meta = metas.get(name)!;
    for (const [key, spec] of Object.entries(meta.inputs ?? {})) {
      expect(key).toMatch(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/);
      expect(spec.description?.trim(), `input ${key}`).toBeTruthy();
      // A required input with a default is never asked for; the runner fills it.
      if (spec.required) expect(spec.default, `input ${key}`).toBeUndefined();
    }
    for (const [key, spec] of Object.entries(meta.outputs ?? {})) {
      expect(spec.description?.trim(), `output ${key}`).toBeTruthy();
    }
    expect(meta.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it.each(names)("%s: a `token` input defaults to the job's token", (name) => {
    const token = metas.get(name)!.inputs?.token;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    if (token) expect(token.default).toBe("${{ github.token }}");
  });

  it.each(names)("%s: states the job permissions it needs, each with a reason", (name) => {
    const perms = parsePermissions(read(name));
    expect(perms.length).toBeGreaterThan(0);
    for (const p of perms) {
      expect(SCOPES.has(p.scope), p.scope).toBe(true);
      expect(p.why.length, p.scope).toBeGreaterThan(10);
    }
    expect(new Set(perms.map((p) => p.scope)).size).toBe(perms.length);
  });

  it("digest-bump outputs the pull request's number, URL and operation (as peter-evans/create-pull-request)", () => {
    expect(Object.keys(metas.get("digest-bump")!.outputs ?? {})).toEqual(
      expect.arrayContaining(["pull-request-number", "pull-request-url", "pull-request-operation"]),
    );
  });
});
