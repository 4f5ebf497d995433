// GitHub's published REST description (api.github.com, OpenAPI 3.0 with Octokit extensions, from the
// npm package @octokit/openapi), turned into validators for the GitHub fake: every request the fake
// receives and every response it sends is checked against the operation that GitHub documents for
// that method and path. The description is read from its generated JSON file directly: the
// package's index.js would load every GHES variant too (hundreds of MB).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One documented operation, found by method and path template. */
export interface Operation {
  /** e.g. `git/update-ref`. */
  id: string;
  method: string;
  /** e.g. `/repos/{owner}/{repo}/git/refs/{ref}`. */
  template: string;
  params: Record<string, string>;
}

interface Route {
  id: string;
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  literal: number;
  pointer: string;
  op: JsonObject;
}

/** Raised for any request or response that does not match GitHub's description. */
export class OpenApiMismatch extends Error {
  override name = "OpenApiMismatch";
}

/** Validators over GitHub's OpenAPI description; load once per process (parsing takes ~0.3 s). */
export class GitHubOpenApi {
  private readonly ajv: Ajv;
  private readonly queryAjv: Ajv;
  private readonly routes: Route[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly doc: JsonObject;

  private constructor(doc: JsonObject) {
    this.doc = doc;
    const definitions = rewriteRefs(nullableToAnyOf(components(doc, "schemas"), true));
    // strict: false because the description uses OpenAPI-only keywords (example, discriminator, x-*).
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, unicodeRegExp: false });
    (addFormats as unknown as (a: Ajv) => void)(this.ajv);
    this.ajv.addSchema({ $id: "gh", definitions }, "gh");
    this.queryAjv = new Ajv({ strict: false, allErrors: true, coerceTypes: true, useDefaults: false });
    this.queryAjv.addSchema({ $id: "gh", definitions }, "gh");
    for (const ajv of [this.ajv, this.queryAjv]) {
      // GitHub's own format for "owner/name"; other unknown formats would only log.
      ajv.addFormat("repo.nwo", /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/);
    }
    const paths = doc.paths as Record<string, Record<string, JsonObject>>;
    for (const [template, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!["get", "post", "put", "patch", "delete", "head"].includes(method)) continue;
        const names: string[] = [];
        const segments = template.split(/(\{[^}]+\})/);
        const source = segments
          .map((s, i) => {
            if (!s.startsWith("{")) return s.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
            names.push(s.slice(1, -1));
            // Trailing parameters such as {ref}, {path} and {basehead} may contain slashes.
            return i === segments.length - 2 && segments[i + 1] === "" ? "(.+)" : "([^/]+)";
          })
          .join("");
        this.routes.push({
          id: String(op.operationId),
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${source}$`),
          names,
          literal: template.replace(/\{[^}]+\}/g, "").length,
          pointer: `#/paths/${escapePointer(template)}/${method}`,
          op,
        });
      }
    }
    this.routes.sort((a, b) => b.literal - a.literal);
  }

  private static instance: GitHubOpenApi | undefined;

  /** The api.github.com description from @octokit/openapi, parsed once and shared (it is read-only). */
  static load(): GitHubOpenApi {
    if (!GitHubOpenApi.instance) {
      const require = createRequire(import.meta.url);
      const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
      GitHubOpenApi.instance = new GitHubOpenApi(JSON.parse(readFileSync(file, "utf8")));
    }
    return GitHubOpenApi.instance;
  }

  /** The version of the description, from its info block. */
  get version(): string {
    return String((this.doc.info as JsonObject).version);
  }

  /** The documented operation for a method and a concrete path, or undefined. */
  match(method: string, path: string): Operation | undefined {
    const route = this.route(method, path);
    if (!route) return undefined;
    const m = route.regex.exec(path)!;
    const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
    return { id: route.id, method: route.method, template: route.template, params };
  }

  /** Checks query parameters and the JSON body against the operation; throws OpenApiMismatch. */
  validateRequest(op: Operation, query: Record<string, string>, body: unknown): void {
    const route = this.byId(op);
    const params = ((route.op.parameters ?? []) as JsonObject[]).map((p) => this.deref(p));
    const problems: string[] = [];
    const queryParams = params.filter((p) => p.in === "query");
    for (const name of Object.keys(query)) {
      if (!queryParams.some((p) => p.name === name)) problems.push(`unknown query parameter "${name}"`);
    }
    if (queryParams.length > 0) {
      const schema = {
        type: "object",
        properties: Object.fromEntries(queryParams.map((p) => [String(p.name), p.schema ?? {}])),
        required: queryParams.filter((p) => p.required).map((p) => String(p.name)),
      };
      // Query values arrive as strings: the query validator coerces them to the declared types.
      const validate = this.compile(`${route.pointer} query`, rewriteRefs(nullableToAnyOf(schema)), true);
      if (!validate({ ...query })) problems.push(`query: ${errors(validate)}`);
    }
    const requestBody = route.op.requestBody ? this.deref(route.op.requestBody as JsonObject) : undefined;
    if (requestBody) {
      const schema = (requestBody.content as JsonObject | undefined)?.["application/json"] as
        | JsonObject
        | undefined;
      if (body === undefined) {
        if (requestBody.required) problems.push("missing JSON request body");
      } else if (schema?.schema) {
        const pointer = `${route.pointer}/requestBody/content/application~1json/schema`;
        const validate = this.compile(pointer, rewriteRefs(nullableToAnyOf(schema.schema)));
        if (!validate(body)) problems.push(`request body: ${errors(validate)}`);
      }
    } else if (body !== undefined && route.method !== "GET") {
      problems.push("the operation takes no request body");
    }
    if (problems.length > 0) {
      throw new OpenApiMismatch(`${op.method} ${op.template} (${op.id}) request: ${problems.join("; ")}`);
    }
  }

  /**
   * Checks a response against the operation. A status GitHub does not list for the operation must
   * carry GitHub's common error shape (`basic-error`), as GitHub's undocumented errors do.
   */
  validateResponse(op: Operation, status: number, body: unknown): void {
    const route = this.byId(op);
    const responses = route.op.responses as JsonObject;
    const declared = responses[String(status)];
    let validate: ValidateFunction;
    if (declared) {
      const response = this.deref(declared as JsonObject);
      const content = (response.content as JsonObject | undefined)?.["application/json"] as
        | JsonObject
        | undefined;
      if (!content?.schema) {
        if (body !== undefined && body !== "") {
          throw new OpenApiMismatch(`${op.method} ${op.template} ${status}: the description lists no body`);
        }
        return;
      }
      validate = this.compile(`${route.id} ${status}`, rewriteRefs(nullableToAnyOf(content.schema)));
    } else {
      if (status < 400) {
        throw new OpenApiMismatch(
          `${op.method} ${op.template} (${op.id}): status ${status} is not documented`,
        );
      }
      validate = this.compile("basic-error", { $ref: "gh#/definitions/basic-error" });
    }
    if (!validate(body)) {
      throw new OpenApiMismatch(
        `${op.method} ${op.template} (${op.id}) ${status} response: ${errors(validate)}`,
      );
    }
  }

  /** A deep copy of one of the description's named examples (components/examples/<name>). */
  example<T = JsonObject>(name: string): T {
    const examples = components(this.doc, "examples") as Record<string, { value: Json }>;
    const example = examples[name];
    if (!example) throw new Error(`no example named ${name} in the GitHub description`);
    return structuredClone(example.value) as T;
  }

  private route(method: string, path: string): Route | undefined {
    return this.routes.find((r) => r.method === method && r.regex.test(path));
  }

  private byId(op: Operation): Route {
    return this.routes.find((r) => r.id === op.id && r.method === op.method)!;
  }

  private deref(node: JsonObject): JsonObject {
    let current = node;
    while (typeof current.$ref === "string") {
      const parts = current.$ref.slice(2).split("/").map(unescapePointer);
      let target: Json = this.doc;
      for (const p of parts) target = (target as JsonObject)[p]!;
      current = target as JsonObject;
    }
    return current;
  }

  private compile(key: string, schema: Json, query = false): ValidateFunction {
    const cacheKey = `${query ? "q" : "b"}:${key}`;
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = (query ? this.queryAjv : this.ajv).compile(schema as object);
      this.compiled.set(cacheKey, validate);
    }
    return validate;
  }
}

function components(doc: JsonObject, kind: string): JsonObject {
  return (doc.components as JsonObject)[kind] as JsonObject;
}

/** OpenAPI 3.0's `nullable: true` is not JSON Schema: rewrite it to `anyOf: [schema, {type: null}]`. */
function nullableToAnyOf(node: Json, inProperties = false): Json {
  if (Array.isArray(node)) return node.map((n) => nullableToAnyOf(n));
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    // Examples, enums and defaults are data, not schemas (unless they name a property).
    const data = !inProperties && (k === "example" || k === "examples" || k === "enum" || k === "default");
    out[k] = data ? v : nullableToAnyOf(v, !inProperties && k === "properties");
  }
  if (!inProperties && out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

/** Points local schema references at the shared `gh` schema that holds every component schema. */
function rewriteRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")
        ? `gh#/definitions/${v.slice("#/components/schemas/".length)}`
        : rewriteRefs(v);
  }
  return out;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, "/").replace(/~0/g, "~");
}

function errors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 8)
    .map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`)
    .join("; ");
}
