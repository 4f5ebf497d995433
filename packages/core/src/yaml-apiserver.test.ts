import { describe, expect, it } from "vitest";
import { parseFastIf, parseYamlStream } from "./yaml.ts";
import { decodeManifestBytes, goCompatible, parseManifestStream, resolveGoScalar } from "./yaml-apiserver.ts";

const one = (text: string | Uint8Array) => {
  const d = parseManifestStream(text, "m.yaml").docs[0]!;
  return { value: d.value as Record<string, unknown> | null, errors: d.errors };
};
const value = (text: string) => {
  const d = one(text);
  expect(d.errors).toEqual([]);
  return d.value as Record<string, unknown>;
};
const error = (text: string | Uint8Array) => {
  const d = one(text);
  expect(d.value).toBeNull();
  expect(d.errors.length).toBeGreaterThan(0);
  return d.errors[0]!;
};

describe("go-yaml v2 scalar resolution", () => {
  it("reads exactly go-yaml's 22 boolean spellings as booleans", () => {
    for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
      expect(value(`a: ${s}\n`).a, s).toBe(true);
    for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
      expect(value(`a: ${s}\n`).a, s).toBe(false);
  });

  it("keeps other spellings, and quoted or block booleans, as strings", () => {
    for (const s of ["yEs", "oN", "tRUE", "nO", "Y.", "yes!", "'yes'", '"on"'])
      expect(typeof value(`a: ${s}\n`).a, s).toBe("string");
    expect(value("a: |\n  yes\n").a).toBe("yes\n");
  });

  it("reads integers as strconv.ParseInt(s, 0, 64) does, after dropping underscores", () => {
    const v = value(
      "a: 0o17\nb: 0O17\nc: 017\nd: 0x1F\ne: -0x1F\nf: 1_000\ng: +12\nh: 0b101\ni: -0b101\nj: -0\nk: 9223372036854775807\n",
    );
    expect(v).toEqual({
      a: 15n,
      b: 15n,
      c: 15n,
      d: 31n,
      e: -31n,
      f: 1000n,
      g: 12n,
      h: 5n,
      i: -5n,
      j: 0n,
      k: 2n ** 63n - 1n,
    });
  });

  it("turns floats with an integral JSON form into integers, as the JSON round trip does", () => {
    expect(value("a: 1.0\nb: 1e3\nc: 08\nd: 1.\n")).toEqual({ a: 1n, b: 1000n, c: 8n, d: 1n });
    expect(value("a: .5\nb: -.5\nc: +.5\nd: 1.5e-3\ne: 1_000.5\n")).toEqual({
      a: 0.5,
      b: -0.5,
      c: 0.5,
      d: 0.0015,
      e: 1000.5,
    });
  });

  it("keeps numbers beyond int64 as JSON numbers, and out-of-range floats as strings", () => {
    const v = value("a: 9223372036854775808\nb: 18446744073709551616\nc: 1e400\n");
    expect(v.a).toBe(2 ** 63);
    expect(v.b).toBe(2 ** 64);
    expect(v.c).toBe("1e400");
  });

  it("refuses .inf and .nan, which JSON cannot carry", () => {
    expect(error("a: .inf\n").message).toContain("json: unsupported value: +Inf");
    expect(error("a: -.Inf\n").message).toContain("-Inf");
    expect(error("a: .NaN\n").message).toContain("NaN");
    expect(value("a: .infinity\nb: inf\nc: Infinity\n")).toEqual({ a: ".infinity", b: "inf", c: "Infinity" });
  });

  it("reads nulls, keeps timestamps and base-60 numbers as the strings they were written as", () => {
    expect(value("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n")).toEqual({
      a: null,
      b: null,
      c: null,
      d: null,
      e: null,
      f: "nULL",
    });
    expect(value("a: 2001-12-14\nb: 190:20:30\nc: 2099-02-31\n")).toEqual({
      a: "2001-12-14",
      b: "190:20:30",
      c: "2099-02-31",
    });
  });

  it("applies explicit tags as go-yaml does, and refuses a value its tag cannot hold", () => {
    expect(
      value(
        'a: !!str 123\nb: !!str yes\nc: !!int "42"\nd: !!float 1\ne: !!bool "on"\nf: !!binary aGVsbG8=\ng: !x v\nh: !!null ""\n',
      ),
    ).toEqual({ a: "123", b: "yes", c: 42n, d: 1n, e: true, f: "hello", g: "v", h: null });
    expect(error("a: !!int abc\n").message).toBe("cannot decode !!str `abc` as a !!int");
    expect(error('a: !!binary "***"\n').message).toContain("invalid base64");
    expect(() => resolveGoScalar("tag:yaml.org,2002:bool", "maybe")).toThrow("as a !!bool");
  });
});

describe("maps as the API server builds them", () => {
  it("turns keys into JSON strings: booleans, integers, floats as Go formats them", () => {
    expect(value("yes: a\n0x2: b\n1.5: c\n1e6: d\n0.1: e\nn: f\n")).toEqual({
      true: "a",
      "2": "b",
      "1.5": "c",
      "1e+06": "d",
      "0.1": "e",
      false: "f",
    });
  });

  it("refuses keys JSON cannot name, and two keys that become one", () => {
    expect(error("~: a\n").message).toContain("unsupported map key of type: <nil>");
    expect(error("18446744073709551615: a\n").message).toContain("uint64");
    expect(error("? [a]\n: x\n").message).toContain("invalid map key");
    expect(error("1: a\n'1': b\n").message).toContain('same JSON key "1"');
  });

  it("refuses duplicate keys at any depth, comparing resolved keys, with the line of the second", () => {
    expect(error("a: 1\nb: 2\na: 3\n")).toMatchObject({ message: 'key "a" already set in map', line: 3 });
    expect(error("x:\n  y:\n    - k: 1\n      k: 2\n")).toMatchObject({ line: 4 });
    expect(error("yes: a\non: b\n").message).toBe("key true already set in map");
    expect(error("1: a\n0x1: b\n").message).toBe("key 1 already set in map");
    expect(error('a: 1\n"a": 2\n').message).toBe('key "a" already set in map');
  });

  it("merges `<<` maps and lists of maps; any key set twice through a merge is an error (strict)", () => {
    expect(value("b: &b {x: 1, w: 2}\nm:\n  <<: *b\n  z: 3\n").m).toEqual({ x: 1n, w: 2n, z: 3n });
    expect(value("a: &a {x: 1}\nb: &b {w: 2}\nm:\n  <<: [*a, *b]\n").m).toEqual({ x: 1n, w: 2n });
    expect(value("a: &a {x: 1}\nb: &b\n  <<: *a\n  w: 2\nm: {<<: *b}\n").m).toEqual({ x: 1n, w: 2n });
    expect(value("m:\n  <<: {x: 1}\n").m).toEqual({ x: 1n });
    expect(error("b: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n").message).toBe('key "x" already set in map');
    expect(error("b: &b {x: 1}\nm:\n  x: 2\n  <<: *b\n").message).toBe('key "x" already set in map');
    expect(error("a: &a {x: 1}\nb: &b {x: 2}\nm:\n  <<: [*a, *b]\n").message).toContain("already set");
    expect(error("m:\n  <<: 5\n").message).toContain("map merge requires map");
    expect(value('m:\n  "<<": {x: 1}\n').m).toEqual({ "<<": { x: 1n } });
  });

  it("expands aliases, refuses undefined ones, and keeps __proto__ a plain key", () => {
    expect(value("x: &x [1, {a: b}]\nz: *x\n").z).toEqual([1n, { a: "b" }]);
    expect(error("a: *nope\n").message.length).toBeGreaterThan(0);
    const v = value("__proto__: {polluted: true}\n");
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
  });

  it("leaves the generic parser (gitops, config) reading YAML 1.2 as before", () => {
    expect(parseYamlStream("a: yes\nb: 0o17\n", "m.yaml").docs[0]!.value).toEqual({ a: "yes", b: 15n });
    expect(value("a: yes\nb: 0o17\n")).toEqual({ a: true, b: 15n });
  });
});

describe("bytes and streams", () => {
  it("refuses invalid UTF-8 with the line and column of the bad byte", () => {
    const bytes = Buffer.concat([Buffer.from("a: 1\nb: caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
    expect(error(bytes)).toMatchObject({ line: 2, column: 7 });
    expect(error(bytes).message).toContain("UTF-8");
  });

  it("drops a UTF-8 BOM, decodes UTF-16 with a BOM, and reads CRLF", () => {
    expect(one(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("a: 1\n")])).value).toEqual({
      a: 1n,
    });
    expect(one(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("a: yes\n", "utf16le")])).value).toEqual(
      { a: true },
    );
    expect(value("a: x\r\nb: |\r\n  l1\r\n  l2\r\n")).toEqual({ a: "x", b: "l1\nl2\n" });
  });

  it("refuses control characters and the YAML 1.1-only line breaks, naming the character", () => {
    expect(decodeManifestBytes("a: x\u0001\n").problem?.message).toContain("U+0001");
    expect(decodeManifestBytes("a: x\u007f\n").problem?.message).toContain("U+007F");
    expect(decodeManifestBytes('a: "x\u0085"\n').problem).toMatchObject({ line: 1, column: 6 });
    expect(decodeManifestBytes("a: x\ty 😀\n").problem).toBeUndefined();
  });

  it("splits a stream as kubectl does: empty documents dropped later, content after --- refused", () => {
    const s = parseManifestStream("---\n---\na: 1\n---\n# c\n---\nb: 2\n", "m.yaml");
    expect(s.docs.map((d) => d.value).filter((v) => v !== null)).toEqual([{ a: 1n }, { b: 2n }]);
    expect(error("--- {a: 1}\n").message).toContain("invalid YAML document separator");
    expect(one("--- # comment\na: 1\n").value).toEqual({ a: 1n });
  });

  it("gives each document its line and each field its position", () => {
    const s = parseManifestStream("a: 1\n---\nspec:\n  x: [1, 2]\n", "m.yaml");
    expect(s.docs.map((d) => d.line)).toEqual([1, 3]);
    expect(s.position(s.docs[1]!, ["spec", "x", 1])).toMatchObject({ line: 4, column: 10, exact: true });
    expect(s.position(s.docs[1]!, ["spec", "missing"])).toMatchObject({ line: 4, exact: false });
  });
});

describe("error positions", () => {
  it("points at the refused node, not the document start", () => {
    expect(error("a: 1\nb:\n  c: !!int abc\n")).toMatchObject({ line: 3, column: 12 });
    expect(error("a: 1\nb:\n  <<: 5\n")).toMatchObject({ line: 3 });
    expect(error("a: 1\nb: .inf\n")).toMatchObject({ line: 2, column: 4 });
  });
});

describe("go-yaml's syntax leniency", () => {
  it("accepts a quoted scalar whose continuation line is not indented, as libyaml does", () => {
    expect(value('a:\n  b: "one\ntwo"\n')).toEqual({ a: { b: "one two" } });
  });
});

describe("limits", () => {
  it("refuses a billion-laughs alias expansion instead of building it", () => {
    const lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(",")}]`,
      );
    const started = Date.now();
    expect(error(`${lines.join("\n")}\n`).message).toBe("document contains excessive aliasing");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("JSON input", () => {
  it("reads a stream that starts with { as JSON, as kubectl sends it: numbers keep their float-ness", () => {
    expect(value('{"a": 1, "b": 1.0, "c": 1e3, "d": "yes", "e": true, "f": null}')).toEqual({
      a: 1n,
      b: 1,
      c: 1000,
      d: "yes",
      e: true,
      f: null,
    });
    expect(typeof value('{"b": 1.0}').b).toBe("number");
  });

  it("refuses duplicate keys and YAML that is not JSON", () => {
    expect(error('{"a": 1, "a": 2}').message).toContain("already set");
    expect(error("{a: 1}").message).toContain("quoted string");
    expect(error('{"a": yes}').message).toContain("invalid character");
  });
});

describe("the fast path", () => {
  it("gives exactly the thorough path's values, errors and lines on every corpus document", async () => {
    const { CORPUS } = await import("../../../test/conformance/decoding/corpus.ts");
    const manifest =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: {app: a, version: 1.2.3}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n          resources: {limits: {cpu: 500m, memory: 256Mi}}\n          env: [{name: A, value: 'yes'}]\n";
    const texts = [...CORPUS.map((c) => c.bytes), Buffer.from(manifest)];
    let fast = 0;
    for (const bytes of texts) {
      const auto = parseManifestStream(bytes, "m.yaml");
      const slow = parseManifestStream(bytes, "m.yaml", {}, { parser: "thorough" });
      // Lines of empty documents differ (no object comes from them); everything else must not.
      const view = (s: typeof auto) =>
        s.docs.map((d) => ({
          value: d.value,
          line: d.value === null ? 0 : d.line,
          failed: d.errors.length > 0,
        }));
      expect(view(auto), bytes.toString("utf8").slice(0, 80)).toEqual(view(slow));
      if (parseFastIf(bytes.toString("utf8"), "m.yaml", {}, goCompatible)) fast++;
    }
    // The common manifest (quantities, versions, quoted yes) takes the fast path, as do a good part of the corpus.
    expect(parseFastIf(manifest, "m.yaml", {}, goCompatible)).toBeDefined();
    expect(fast).toBeGreaterThan(20);
  });
});
