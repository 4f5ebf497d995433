import { describe, expect, it } from "vitest";
import { PlatformError } from "./errors.ts";
import { DEFAULT_YAML_LIMITS, parseYamlStream } from "./yaml.ts";

function aliasBomb(levels: number): string {
  const lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(",")}]`,
    );
  return `${lines.join("\n")}\n`;
}

describe("parseYamlStream", () => {
  it("parses every document with its first line, integers as bigint", () => {
    const s = parseYamlStream("a: 1\n---\n# c\nb: 2.5\n---\n- x\n", "m.yaml");
    expect(s.docs.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(s.docs.map((d) => d.line)).toEqual([1, 4, 6]);
    expect(s.docs[0]!.value).toEqual({ a: 1n });
    expect(s.docs[1]!.value).toEqual({ b: 2.5 });
    expect(s.docs[2]!.value).toEqual(["x"]);
    expect(s.docs.every((d) => d.errors.length === 0)).toBe(true);
  });

  it("reports a syntax error per document, with its line, without throwing", () => {
    const s = parseYamlStream("ok: 1\n---\nbad: [1, 2\nnext: 3\n---\nfine: true\n", "m.yaml");
    expect(s.docs).toHaveLength(3);
    expect(s.docs[0]!.errors).toEqual([]);
    expect(s.docs[1]!.errors.length).toBeGreaterThan(0);
    expect(s.docs[1]!.errors[0]!.line).toBeGreaterThanOrEqual(3);
    expect(s.docs[1]!.errors[0]!.line).toBeLessThanOrEqual(4);
    expect(s.docs[1]!.errors[0]!.message).not.toContain("\n");
    expect(s.docs[2]!.value).toEqual({ fine: true });
  });

  it("finds the position of a path, of a key, and of the deepest existing parent", () => {
    const text = "spec:\n  containers:\n    - name: app\n      image: nginx:latest\n";
    const s = parseYamlStream(text, "m.yaml");
    const d = s.docs[0]!;
    expect(s.position(d, ["spec", "containers", 0, "image"])).toEqual({ line: 4, column: 14, exact: true });
    expect(s.position(d, ["spec", "containers", 0, "image"], { key: true })).toEqual({
      line: 4,
      column: 7,
      exact: true,
    });
    const missing = s.position(d, ["spec", "containers", 0, "securityContext", "runAsNonRoot"]);
    expect(missing.exact).toBe(false);
    expect(missing.line).toBe(3);
  });

  it("rejects more documents than the limit", () => {
    const text = Array.from({ length: 4 }, (_, i) => `n: ${i}`).join("\n---\n");
    expect(parseYamlStream(text, "m.yaml", { maxDocuments: 4 }).docs).toHaveLength(4);
    let err: unknown;
    try {
      parseYamlStream(text, "m.yaml", { maxDocuments: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe("YAML_TOO_MANY_DOCUMENTS");
    expect((err as PlatformError).file).toBe("m.yaml");
  });

  it("rejects a stream larger than maxBytes, counting bytes not characters", () => {
    const text = `k: "${"é".repeat(60)}"\n`; // 60 characters, 120 bytes
    expect(() => parseYamlStream(text, "m.yaml", { maxBytes: 200 })).not.toThrow();
    expect(() => parseYamlStream(text, "m.yaml", { maxBytes: 100 })).toThrow(
      expect.objectContaining({ code: "YAML_TOO_LARGE" }),
    );
  });

  it("turns an alias bomb into a document error, quickly", () => {
    const started = performance.now();
    const s = parseYamlStream(aliasBomb(9), "bomb.yaml"); // 9^10 strings if expanded
    expect(performance.now() - started).toBeLessThan(2000);
    expect(s.docs[0]!.value).toBeNull();
    expect(s.docs[0]!.errors).toHaveLength(1);
    expect(s.docs[0]!.errors[0]!.message).toMatch(/alias/i);
    expect(s.docs[0]!.errors[0]!.line).toBe(1);
  });

  it("honours maxAliasCount: a few aliases pass, more than the limit fail", () => {
    const few = "base: &b {x: 1}\none: *b\ntwo: *b\n";
    expect(parseYamlStream(few, "m.yaml").docs[0]!.value).toEqual({
      base: { x: 1n },
      one: { x: 1n },
      two: { x: 1n },
    });
    const many = `base: &b {x: 1}\nlist: [${Array(20).fill("*b").join(", ")}]\n`;
    expect(parseYamlStream(many, "m.yaml", { maxAliasCount: 100 }).docs[0]!.errors).toEqual([]);
    expect(parseYamlStream(many, "m.yaml", { maxAliasCount: 0 }).docs[0]!.errors).toHaveLength(1);
  });

  it("has the documented default limits", () => {
    expect(DEFAULT_YAML_LIMITS).toEqual({
      maxBytes: 16 * 1024 * 1024,
      maxDocuments: 10_000,
      maxAliasCount: 100,
    });
  });
});
