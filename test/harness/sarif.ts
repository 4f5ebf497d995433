import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);

/** Validates a SARIF log against the official SARIF 2.1.0 JSON schema (as published via SchemaStore). */
export function validateSarif(log: unknown): string[] {
  const schema = JSON.parse(
    readFileSync(require.resolve("schemastore/schemas/json/sarif-2.1.0.json"), "utf8"),
  );
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
