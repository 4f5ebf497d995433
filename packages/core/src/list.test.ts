import { describe, expect, it } from "vitest";
import { parseList } from "./list.ts";

describe("parseList", () => {
  it("returns nothing for undefined, empty or blank input", () => {
    expect(parseList(undefined)).toEqual([]);
    expect(parseList("")).toEqual([]);
    expect(parseList("  \n\n\t\n")).toEqual([]);
  });

  it("splits on newlines (LF and CRLF) and trims items", () => {
    expect(parseList("a\n  b  \r\nc\r\n")).toEqual(["a", "b", "c"]);
  });

  it("splits on commas by default, and on both commas and newlines together", () => {
    expect(parseList("a,b , c")).toEqual(["a", "b", "c"]);
    expect(parseList("dev,staging\nprod")).toEqual(["dev", "staging", "prod"]);
  });

  it("skips empty items between commas", () => {
    expect(parseList("a,,b,\n,c,")).toEqual(["a", "b", "c"]);
  });

  it("keeps a double-quoted item whole, commas included", () => {
    expect(parseList('"a,b",c')).toEqual(["a,b", "c"]);
    expect(parseList('x, "k=v1,v2" ,y')).toEqual(["x", "k=v1,v2", "y"]);
  });

  it('turns "" inside quotes into one literal quote', () => {
    expect(parseList('"say ""hi"", then go",b')).toEqual(['say "hi", then go', "b"]);
  });

  it("skips # comment lines and blank lines", () => {
    const raw = ["# registries we trust", "a", "", "   # indented comment", "b,c", "   "].join("\n");
    expect(parseList(raw)).toEqual(["a", "b", "c"]);
  });

  it("keeps a # that does not start the line", () => {
    expect(parseList("a#1,b")).toEqual(["a#1", "b"]);
  });

  describe("comma: false", () => {
    it("splits on newlines only, so commas stay inside items", () => {
      expect(parseList("rate(a[5m]), by (pod)\nsum(b)", { comma: false })).toEqual([
        "rate(a[5m]), by (pod)",
        "sum(b)",
      ]);
    });

    it("still skips comments and blanks and trims", () => {
      expect(parseList("# c\n\n  k=v,w  \n", { comma: false })).toEqual(["k=v,w"]);
    });

    it('unquotes a whole-line quoted item and unescapes ""', () => {
      expect(parseList('"a ""b"" c"\n"plain"', { comma: false })).toEqual(['a "b" c', "plain"]);
    });

    it("leaves a quote that does not wrap the whole line alone", () => {
      expect(parseList('say "hi"', { comma: false })).toEqual(['say "hi"']);
    });
  });

  it("is the same with comma: true as with the default", () => {
    const raw = 'a,"b,c"\n# x\nd';
    expect(parseList(raw, { comma: true })).toEqual(parseList(raw));
  });
});
