import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);

describe("CEL engine with the Kubernetes libraries", () => {
  it("evaluates optional chaining as Kubernetes ≥1.29 policies write it", () => {
    expect(run("object.spec.?hostPID.orValue(false)", { object: { spec: {} } })).toBe(false);
    expect(
      run("object.spec.containers[0].?securityContext.?runAsNonRoot.orValue(false)", {
        object: { spec: { containers: [{ securityContext: { runAsNonRoot: true } }] } },
      }),
    ).toBe(true);
    expect(
      run("object.metadata.?labels[?'app'].orValue('none')", {
        object: { metadata: { labels: { app: "x" } } },
      }),
    ).toBe("x");
  });

  it("has() takes any operand before the last field, as cel-go does (a call, an index, a literal)", () => {
    const object = { items: [{ a: 1 }], m: { k: { x: "" } } };
    expect(run("has(object.items[0].a)", { object })).toBe(true);
    expect(run("has(object.items[0].b)", { object })).toBe(false);
    expect(run("has(object.m['k'].x) && !has(object.m['k'].y)", { object })).toBe(true);
    expect(run("has({'a': 1}.a)")).toBe(true);
    expect(run("has(object.items.map(i, i)[0].a)", { object })).toBe(true);
    // Only the last field is tested; a missing one before it is an error, as in cel-go.
    expect(() => run("has(object.items[0].b.c)", { object })).toThrowError(/no such key|b/i);
    expect(run("has(object.m.k)", { object })).toBe(true);
  });

  it("uses RE2 semantics for matches: inline flags work, lookaround is rejected at compile time", () => {
    expect(run("'DB_PASSWORD'.matches('(?i)passw(or)?d')")).toBe(true);
    expect(run("'abc'.matches('b')")).toBe(true);
    expect(() => engine.compile("'x'.matches('^(?=x)x$')")).toThrowError(/not valid RE2/);
    expect(() => engine.compile("matches('x', '(a)\\\\1')")).toThrowError(/not valid RE2/);
  });

  it("has the Kubernetes regex library find/findAll", () => {
    expect(run("'abc 123 def 456'.find('[0-9]+')")).toBe("123");
    expect(run("'abc 123 def 456'.findAll('[0-9]+')")).toEqual(["123", "456"]);
    expect(run("'abc 123 def 456'.findAll('[0-9]+', 1)")).toEqual(["123"]);
    expect(run("'abc'.find('[0-9]+')")).toBe("");
  });

  it("has the strings extension functions the engine lacks, with ASCII-only case mapping", () => {
    expect(run("'abc'.charAt(1)")).toBe("b");
    expect(run("'abc'.charAt(3)")).toBe("");
    expect(run("'a-b-c'.replace('-', '_')")).toBe("a_b_c");
    expect(run("'a-b-c'.replace('-', '_', 1)")).toBe("a_b-c");
    expect(run("'ÄbC'.lowerAscii()")).toBe("Äbc");
    expect(run("'äbc'.upperAscii()")).toBe("äBC");
  });

  it("parses image references with the platform image() function", () => {
    expect(run("image('nginx').name")).toBe("docker.io/library/nginx");
    const digest = `sha256:${"a".repeat(64)}`;
    expect(run("image(ref)", { ref: `acr.azurecr.io/team/api:1.2@${digest}` })).toEqual({
      registry: "acr.azurecr.io",
      repository: "team/api",
      tag: "1.2",
      digest,
      name: "acr.azurecr.io/team/api",
      valid: "true",
    });
  });

  it("reports syntax errors as PlatformError with the policy name", () => {
    expect(() => engine.compile("object.spec. == 1", { policy: "P1" })).toThrowError(/P1: CEL syntax error/);
  });

  it("treats YAML integers (bigint) as CEL int", () => {
    expect(run("object.n + 1 == 3", { object: { n: 2n } })).toBe(true);
  });
});
