// Holds the fakes of Azure services to the services' published API descriptions: the Swagger 2.0 (OpenAPI 2)
// files of azure-rest-api-specs, kept under test/fixtures/specs/ with the same relative layout as the
// repository's `specification/` folder so their cross-file `$ref`s (common-types, …) resolve unchanged.
//
// An operation is found by method and path template (ARM matches the literal segments case-insensitively);
// its path, query and body parameters are checked, and a response body against the schema of its status
// code (or `default`). Schemas are compiled by ajv after every `$ref` has been made absolute (file URL +
// JSON pointer), so inline schemas inside `paths` compile on their own. Formats and the Swagger-only
// keywords (x-ms-*, discriminator, readOnly) are not enforced: the shape, required fields, types, enums and
// patterns are.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";

type Json = Record<string, unknown>;

export interface SwaggerParameter {
  name: string;
  in: "path" | "query" | "header" | "body" | "formData";
  required?: boolean;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  schema?: Json;
  "x-ms-skip-url-encoding"?: boolean;
}

export interface SwaggerOperation {
  operationId: string;
  method: string;
  /** The path template as written in the spec, basePath included. */
  template: string;
  /** The spec file that declares it. */
  file: string;
  /** `info.version` of that file: the api-version a request must carry. */
  apiVersion: string;
  parameters: SwaggerParameter[];
  responses: Record<string, { schema?: Json } | undefined>;
  longRunning: boolean;
  finalStateVia?: string;
}

export interface MatchedOperation {
  op: SwaggerOperation;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
}

interface CompiledTemplate {
  op: SwaggerOperation;
  regex: RegExp;
  names: string[];
  literalLength: number;
}

const METHODS = ["get", "put", "post", "patch", "delete", "head"];

/** The Swagger files of one or more services, with request/response validation. */
export class SwaggerCatalog {
  readonly operations: SwaggerOperation[] = [];
  private readonly docs = new Map<string, Json>();
  private readonly ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateFormats: false,
    validateSchema: false,
    unicodeRegExp: false,
  });
  private readonly templates: CompiledTemplate[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(files: string[]) {
    if (files.length === 0) throw new Error("SwaggerCatalog: no spec files given");
    for (const f of files) this.load(resolve(f), true);
    // The most specific template wins (`…/agentPools/{name}` over `…/{scope}`).
    this.templates.sort((a, b) => b.literalLength - a.literalLength);
  }

  /** The operation for a request, or undefined when no spec declares the method and path. */
  find(method: string, path: string): MatchedOperation | undefined {
    const m = method.toLowerCase();
    for (const t of this.templates) {
      if (t.op.method !== m) continue;
      const hit = t.regex.exec(path);
      if (!hit) continue;
      const params: Record<string, string> = {};
      t.names.forEach((n, i) => {
        params[n] = decodeURIComponent(hit[i + 1] ?? "");
      });
      return { op: t.op, params };
    }
    return undefined;
  }

  /** The operation with this operationId (case-insensitive), or undefined. */
  byId(operationId: string): SwaggerOperation | undefined {
    const id = operationId.toLowerCase();
    return this.operations.find((o) => o.operationId.toLowerCase() === id);
  }

  /** Problems with a request to a matched operation; empty when it follows the spec. */
  validateRequest(
    match: MatchedOperation,
    req: {
      query: Record<string, string>;
      headers: Record<string, string | string[] | undefined>;
      body?: unknown;
      /** Form fields of an application/x-www-form-urlencoded body (repeatable fields as arrays). */
      form?: Record<string, string | string[]>;
    },
  ): string[] {
    const { op, params } = match;
    const problems: string[] = [];
    const where = `${op.operationId} (${op.method.toUpperCase()} ${op.template})`;
    if (req.form) problems.push(...this.checkForm(op, where, req.form));
    for (const p of op.parameters) {
      if (p.in === "formData") continue;
      if (p.in === "body") {
        if (req.body === undefined) {
          if (p.required) problems.push(`${where}: the required body parameter "${p.name}" is missing`);
          continue;
        }
        if (p.schema) {
          const errors = this.check(p.schema, req.body, `${op.file}:${op.operationId}:${p.name}`);
          for (const e of errors) problems.push(`${where}: request body ${e}`);
        }
        continue;
      }
      const value =
        p.in === "path"
          ? params[p.name]
          : p.in === "query"
            ? req.query[p.name]
            : p.in === "header"
              ? headerValue(req.headers, p.name)
              : undefined;
      if (value === undefined || value === "") {
        // The spec marks If-Match "required" on conditional writes, but clients send it only when they
        // mean it; ARM treats it as optional on the wire.
        if (p.required && !(p.in === "header" && /^if-(none-)?match$/i.test(p.name)))
          problems.push(`${where}: the required ${p.in} parameter "${p.name}" is missing`);
        continue;
      }
      if (p.in === "query" && p.name === "api-version" && value !== op.apiVersion)
        problems.push(`${where}: api-version ${value} is not the spec's ${op.apiVersion}`);
      if (p.enum && !p.enum.includes(value))
        problems.push(`${where}: ${p.in} parameter "${p.name}"=${value} is not one of ${p.enum.join(", ")}`);
      if (p.pattern && !new RegExp(p.pattern, "u").test(value))
        problems.push(`${where}: ${p.in} parameter "${p.name}"=${value} does not match ${p.pattern}`);
      if (p.minLength !== undefined && value.length < p.minLength)
        problems.push(`${where}: ${p.in} parameter "${p.name}" is shorter than ${p.minLength}`);
      if (p.maxLength !== undefined && value.length > p.maxLength)
        problems.push(`${where}: ${p.in} parameter "${p.name}" is longer than ${p.maxLength}`);
    }
    return problems;
  }

  private checkForm(op: SwaggerOperation, where: string, form: Record<string, string | string[]>): string[] {
    const problems: string[] = [];
    const declared = op.parameters.filter((p) => p.in === "formData");
    for (const p of declared) {
      const raw = form[p.name];
      const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      if (values.length === 0) {
        if (p.required) problems.push(`${where}: the required form field "${p.name}" is missing`);
        continue;
      }
      for (const v of values) {
        if (p.enum && !p.enum.includes(v))
          problems.push(`${where}: form field "${p.name}"=${v} is not one of ${p.enum.join(", ")}`);
      }
    }
    for (const name of Object.keys(form)) {
      if (!declared.some((p) => p.name === name))
        problems.push(`${where}: form field "${name}" is not in the spec`);
    }
    return problems;
  }

  /** Problems with a response body for a status code; empty when it follows the spec. */
  validateResponse(op: SwaggerOperation, status: number, body: unknown): string[] {
    const where = `${op.operationId} response ${status}`;
    const declared = op.responses[String(status)];
    const response = declared ?? (status >= 400 ? op.responses.default : undefined);
    if (!response) {
      return [
        `${where}: the spec declares no such status (declared: ${Object.keys(op.responses).join(", ")})`,
      ];
    }
    if (!response.schema) return [];
    if (body === undefined) return [`${where}: the spec declares a body, none was sent`];
    return this.check(response.schema, body, `${op.file}:${op.operationId}:${status}`).map(
      (e) => `${where}: ${e}`,
    );
  }

  /** Validates a value against a named definition of a loaded file (e.g. an example or a status payload). */
  validateDefinition(file: string, definition: string, value: unknown): string[] {
    const url = `${pathToFileURL(resolve(file)).href}#/definitions/${definition}`;
    return this.check({ $ref: url }, value, url);
  }

  private check(schema: Json, value: unknown, key: string): string[] {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(key, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
    );
  }

  private load(file: string, indexPaths: boolean): void {
    if (this.docs.has(file)) {
      if (indexPaths) this.indexPaths(file);
      return;
    }
    let doc: Json;
    try {
      doc = JSON.parse(readFileSync(file, "utf8")) as Json;
    } catch (err) {
      throw new Error(
        `cannot load the spec ${file} (${(err as Error).message}); keep the azure-rest-api-specs files under test/fixtures/specs/ with the repository's relative layout`,
      );
    }
    const url = pathToFileURL(file).href;
    const referenced = new Set<string>();
    absolutise(doc, url, referenced);
    this.docs.set(file, doc);
    this.ajv.addSchema(doc as object, url);
    for (const other of referenced) this.load(other, false);
    if (indexPaths) this.indexPaths(file);
  }

  private indexPaths(file: string): void {
    if (this.operations.some((o) => o.file === file)) return;
    const doc = this.docs.get(file)!;
    const info = (doc.info ?? {}) as Json;
    const basePath = typeof doc.basePath === "string" && doc.basePath !== "/" ? doc.basePath : "";
    const paths = { ...((doc.paths ?? {}) as Json), ...((doc["x-ms-paths"] ?? {}) as Json) };
    for (const [rawTemplate, item] of Object.entries(paths)) {
      const pathItem = item as Json;
      const shared = ((pathItem.parameters ?? []) as Json[]).map((p) => this.deref(p));
      for (const method of METHODS) {
        const o = pathItem[method] as Json | undefined;
        if (!o) continue;
        const own = ((o.parameters ?? []) as Json[]).map((p) => this.deref(p));
        const byKey = new Map<string, SwaggerParameter>();
        for (const p of [...shared, ...own] as unknown as SwaggerParameter[])
          byKey.set(`${p.in}:${p.name}`, p);
        const lroOptions = (o["x-ms-long-running-operation-options"] ?? {}) as Json;
        const template = basePath + rawTemplate.split("?")[0];
        const op: SwaggerOperation = {
          operationId: String(o.operationId ?? `${method} ${template}`),
          method,
          template,
          file,
          apiVersion: String(info.version ?? ""),
          parameters: [...byKey.values()],
          responses: (o.responses ?? {}) as SwaggerOperation["responses"],
          longRunning: o["x-ms-long-running-operation"] === true,
          ...(typeof lroOptions["final-state-via"] === "string"
            ? { finalStateVia: lroOptions["final-state-via"] as string }
            : {}),
        };
        this.operations.push(op);
        this.templates.push(compileTemplate(op));
      }
    }
  }

  /** Follows a `$ref` (already absolute) to the object it names. */
  private deref(node: Json): Json {
    let current = node;
    for (let hops = 0; typeof current.$ref === "string" && hops < 10; hops++) {
      const [fileUrl, pointer = ""] = (current.$ref as string).split("#");
      const doc = this.docs.get(fileURLToPath(fileUrl!));
      if (!doc) throw new Error(`unresolved $ref ${current.$ref as string}`);
      current = pointer
        .split("/")
        .slice(1)
        .reduce<unknown>(
          (at, part) => (at as Json | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")],
          doc,
        ) as Json;
      if (!current) throw new Error(`unresolved $ref ${node.$ref as string}`);
    }
    return current;
  }
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function compileTemplate(op: SwaggerOperation): CompiledTemplate {
  const names: string[] = [];
  let literalLength = 0;
  const skipEncoding = new Set(
    op.parameters.filter((p) => p.in === "path" && p["x-ms-skip-url-encoding"]).map((p) => p.name),
  );
  const source = op.template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name) {
        names.push(name);
        return skipEncoding.has(name) ? "(.+?)" : "([^/]+)";
      }
      literalLength += part.length;
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return { op, regex: new RegExp(`^${source}/?$`, "i"), names, literalLength };
}

/**
 * Rewrites every `$ref` of a loaded document to an absolute `file:` URL (so a schema lifted out of `paths`
 * still resolves), collects the other files it references, and drops what JSON Schema draft 7 rejects in
 * Swagger 2.0 schemas (`type: file`, boolean exclusiveMinimum/Maximum).
 */
function absolutise(node: unknown, baseUrl: string, referenced: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) absolutise(item, baseUrl, referenced);
    return;
  }
  if (!node || typeof node !== "object") return;
  const obj = node as Json;
  if (typeof obj.$ref === "string") {
    const [filePart, pointer = ""] = obj.$ref.split("#");
    const target = filePart ? new URL(filePart, baseUrl).href : baseUrl;
    if (filePart) referenced.add(fileURLToPath(target));
    obj.$ref = `${target}#${pointer}`;
  }
  if (obj.type === "file") delete obj.type;
  for (const bound of ["exclusiveMinimum", "exclusiveMaximum"] as const) {
    if (typeof obj[bound] === "boolean") {
      const plain = bound === "exclusiveMinimum" ? "minimum" : "maximum";
      if (obj[bound] === true && typeof obj[plain] === "number") {
        obj[bound] = obj[plain];
        delete obj[plain];
      } else delete obj[bound];
    }
  }
  // Example files are documentation, not schemas; they are loaded on demand by whoever uses them.
  for (const [k, v] of Object.entries(obj))
    if (k !== "$ref" && k !== "x-ms-examples") absolutise(v, baseUrl, referenced);
}

/** The folder that mirrors azure-rest-api-specs' `specification/` (test/fixtures/specs). */
export const SPECS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "specs");
