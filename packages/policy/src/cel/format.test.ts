import { Optional } from "@marcbachmann/cel-js";
import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";
import { namedFormats } from "./format.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);
const errors = (expr: string) => {
  const r = run(expr) as Optional<string[]>;
  return r.hasValue() ? r.value() : undefined;
};

describe("Kubernetes format library", () => {
  it("accepts the library's doc-comment examples", () => {
    for (const e of [
      `format.dns1123Label().validate("my-label-name")`,
      `format.dns1123Subdomain().validate("apiextensions.k8s.io")`,
      `format.dns1035Label().validate("my-label-name")`,
      `format.qualifiedName().validate("apiextensions.k8s.io/v1beta1")`,
      `format.dns1123LabelPrefix().validate("my-label-prefix-")`,
      `format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-")`,
      `format.dns1035LabelPrefix().validate("my-label-prefix-")`,
      `format.uri().validate("http://example.com")`,
      `format.uuid().validate("123e4567-e89b-12d3-a456-426614174000")`,
      `format.byte().validate("aGVsbG8=")`,
      `format.date().validate("2021-01-01")`,
      `format.datetime().validate("2021-01-01T00:00:00Z")`,
      `format.labelValue().validate("my-cool-label-Value")`,
      `format.qualifiedName().validate("my.name")`,
    ]) {
      expect(errors(e), e).toBeUndefined();
    }
    expect(
      run(`format.dns1123Label().validate(object.metadata.name).hasValue()`, {
        object: { metadata: { name: "ok" } },
      }),
    ).toBe(false);
  });

  it("returns the apimachinery validation messages (format_test.go)", () => {
    const label =
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const subdomain =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const dns1035 =
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    expect(errors(`format.dns1123Label().validate("contains a space")`)).toEqual([label]);
    expect(errors(`format.dns1123Subdomain().validate("contains a space")`)).toEqual([subdomain]);
    expect(errors(`format.dns1035Label().validate("contains a space")`)).toEqual([dns1035]);
    expect(errors(`format.qualifiedName().validate("contains a space")`)).toEqual([
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(errors(`format.dns1123LabelPrefix().validate("contains a space-")`)).toEqual([label]);
    expect(errors(`format.dns1123SubdomainPrefix().validate("contains a space-")`)).toEqual([subdomain]);
    expect(errors(`format.dns1035LabelPrefix().validate("contains a space-")`)).toEqual([dns1035]);
    expect(errors(`format.byte().validate("aGVsbG8")`)).toEqual(["invalid base64"]);
    expect(errors(`format.date().validate("2020-01-32")`)).toEqual(["invalid date"]);
    expect(errors(`format.datetime().validate("2020-01-32T00:00:00Z")`)).toEqual(["invalid datetime"]);
    expect(errors(`format.labelValue().validate("my-cool-label-Value!!\\n\\n!!!")`)).toEqual([
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
    expect(errors(`format.uuid().validate("nope")`)).toEqual(["does not match the UUID format"]);
    expect(errors(`format.uri().validate("example.com")`)).toEqual([
      'parse "example.com": invalid URI for request',
    ]);
  });

  it("checks lengths, dots, prefixes and dates as apimachinery does", () => {
    expect(errors(`format.dns1123Label().validate("${"a".repeat(64)}")`)).toEqual([
      "must be no more than 63 characters",
    ]);
    expect(errors(`format.dns1123Label().validate("a.b")`)).toEqual(["must not contain dots"]);
    expect(errors(`format.qualifiedName().validate("/name")`)).toEqual(["prefix part must be non-empty"]);
    expect(errors(`format.qualifiedName().validate("a/b/c")`)?.[0]).toMatch(
      /^a valid label key must consist of/,
    );
    expect(errors(`format.qualifiedName().validate("Example.com/x")`)?.[0]).toMatch(
      /^prefix part a lowercase RFC 1123 subdomain/,
    );
    expect(errors(`format.labelValue().validate("")`)).toBeUndefined();
    expect(errors(`format.labelValue().validate("${"a".repeat(64)}")`)).toEqual([
      "must be no more than 63 bytes",
    ]);
    expect(errors(`format.date().validate("2024-02-29")`)).toBeUndefined();
    expect(errors(`format.date().validate("2023-02-29")`)).toEqual(["invalid date"]);
    expect(errors(`format.datetime().validate("2021-01-01t10:00:00.5+02:00")`)).toBeUndefined();
    expect(errors(`format.datetime().validate("2021-01-01 10:00:00Z")`)).toEqual(["invalid datetime"]);
    expect(errors(`format.uuid().validate("123E4567E89B12D3A456426614174000")`)).toBeUndefined();
  });

  it("looks formats up by name and compares them by name", () => {
    expect(run(`format.named("unknown").hasValue()`)).toBe(false);
    for (const name of namedFormats().keys()) {
      expect(run(`format.named("${name}").hasValue()`)).toBe(true);
      expect(run(`format.named("${name}").value() == format.${name}()`)).toBe(true);
    }
    expect(run(`format.dns1123Label() == format.dns1035Label()`)).toBe(false);
    expect(run(`format.named("labelValue").value().validate("a b").value().size()`)).toBe(1n);
    expect(run(`format.named("byte")`)).toBeInstanceOf(Optional);
  });
});
