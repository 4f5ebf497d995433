import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYamlStreamWith } from "./yaml.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "examples");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === "templates" ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

/** Every path into a value: map keys and list indexes, down to the leaves. */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push(...paths(x, [...prefix, i]));
  } else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

const TRICKY = `# comment
apiVersion: v1
kind: ConfigMap
metadata: { name: "quoted", labels: { 'a': b } }
data:
  block: |
    line one
    line two
  "quoted key": 1
  anchored: &anc
    x: 0x1F
    y: -12
  alias: *anc
  flow: [a, {b: c}, 'd']
---
---
- item
- nested:
    - deep
`;

describe("the fast (js-yaml events) and thorough (yaml) parsers agree", () => {
  const files = [
    ...yamlFiles(EXAMPLES).map((f) => [f, readFileSync(f, "utf8")] as const),
    ["tricky.yaml", TRICKY] as const,
  ];

  it.each(files)("on values, lines and every field position: %s", (name, text) => {
    const fast = parseYamlStreamWith("fast", text, name)!;
    const thorough = parseYamlStreamWith("thorough", text, name)!;
    expect(fast).toBeDefined();
    // An empty document has no node to take a line from in the event stream; loaders skip it anyway.
    const summary = (docs: typeof fast.docs) => docs.map((d) => [d.value, d.value === null ? "-" : d.line]);
    expect(summary(fast.docs)).toEqual(summary(thorough.docs));
    for (const [i, d] of fast.docs.entries()) {
      if (d.value === null) continue;
      for (const p of paths(d.value)) {
        const want = thorough.position(thorough.docs[i]!, p);
        expect(fast.position(d, p), `${name} doc ${i} ${p.join(".")}`).toMatchObject({
          line: want.line,
          exact: want.exact,
        });
        if (p.length && typeof p.at(-1) === "string") {
          expect(fast.position(d, p, { key: true }).line).toBe(
            thorough.position(thorough.docs[i]!, p, { key: true }).line,
          );
        }
      }
      // A path that does not exist points at the deepest node that does, and says so.
      const missing = [...(paths(d.value).at(-1) ?? []), "nope", "deeper"];
      expect(fast.position(d, missing)).toMatchObject({
        exact: false,
        line: thorough.position(thorough.docs[i]!, missing).line,
      });
    }
  });

  it("reads integers as bigint in both, including hex and signs", () => {
    const text = "a: 0x1F\nb: -12\nc: +7\nd: 1.5\ne: 12345678901234567890\n";
    const want = { a: 31n, b: -12n, c: 7n, d: 1.5, e: 12345678901234567890n };
    expect(parseYamlStreamWith("fast", text, "n.yaml")!.docs[0]!.value).toEqual(want);
    expect(parseYamlStreamWith("thorough", text, "n.yaml")!.docs[0]!.value).toEqual(want);
  });

  it("leaves a broken stream to the thorough parser", () => {
    expect(parseYamlStreamWith("fast", "a: [\n", "b.yaml")).toBeUndefined();
    expect(parseYamlStreamWith("fast", "a: 1\na: 2\n", "dup.yaml")).toBeUndefined();
  });
});
