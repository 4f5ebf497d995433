import { describe, expect, it } from "vitest";
import { escapeMarkdown, SUMMARY_LIMIT_BYTES, SummaryBuilder } from "./summary.ts";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("escapeMarkdown", () => {
  it("encodes HTML, pipes and backticks", () => {
    expect(escapeMarkdown("<img src=x onerror=alert(1)> & a|b `code`")).toBe(
      "&lt;img src=x onerror=alert(1)&gt; &amp; a&#124;b &#96;code&#96;",
    );
  });

  it("encodes & first, so entities are not double-decoded", () => {
    expect(escapeMarkdown("&lt;")).toBe("&amp;lt;");
  });

  it("turns every kind of line break into <br>, so a cell cannot end its table row", () => {
    expect(escapeMarkdown("a\nb\r\nc\rd")).toBe("a<br>b<br>c<br>d");
  });

  it("leaves ordinary text alone", () => {
    expect(escapeMarkdown("nginx@sha256:abc in team-a/web (line 12)")).toBe(
      "nginx@sha256:abc in team-a/web (line 12)",
    );
  });
});

describe("SummaryBuilder", () => {
  it("escapes headings and paragraphs", () => {
    const md = new SummaryBuilder().heading("a <b>", 3).paragraph("x|y").render();
    expect(md).toBe("### a &lt;b&gt;\n\nx&#124;y\n");
  });

  it("renders a table with escaped header and cells, and raw cells kept as given", () => {
    const md = new SummaryBuilder()
      .table(
        ["rule | id", "count"],
        [
          ["no-<latest>", 3],
          ["pipe|in\nname", { raw: "[link](https://example.com/a|b)" }],
        ],
      )
      .render();
    const lines = md.trimEnd().split("\n");
    expect(lines).toEqual([
      "| rule &#124; id | count |",
      "| --- | --- |",
      "| no-&lt;latest&gt; | 3 |",
      "| pipe&#124;in<br>name | [link](https://example.com/a|b) |",
    ]);
  });

  it("every escaped table row has as many cells as the header", () => {
    const hostile = ["a|b|c", "x\ny", "`|`", "\r|\r"];
    const md = new SummaryBuilder()
      .table(
        ["one", "two"],
        hostile.map((h) => [h, h]),
      )
      .render();
    const rows = md.trimEnd().split(/\r\n|\r|\n/);
    expect(rows).toHaveLength(2 + hostile.length);
    for (const row of rows) expect(row.split("|").length - 2, row).toBe(2);
  });

  it("renders details and mermaid blocks", () => {
    const md = new SummaryBuilder().details("more <info>", "body").mermaid('pie\n  "a" : 1').render();
    expect(md).toContain("<details><summary>more &lt;info&gt;</summary>\n\nbody\n</details>");
    expect(md).toContain('```mermaid\npie\n  "a" : 1\n```');
  });

  it("keeps everything, in order, without a note, when under budget", () => {
    const md = new SummaryBuilder(10_000)
      .heading("Verdict")
      .paragraph("ok")
      .table(["a"], [["1"]])
      .render();
    expect(md.indexOf("Verdict")).toBeLessThan(md.indexOf("ok"));
    expect(md.indexOf("ok")).toBeLessThan(md.indexOf("| a |"));
    expect(md).not.toContain("Note:");
  });

  it("defaults to a budget under GitHub's 1 MiB limit", () => {
    const md = new SummaryBuilder().raw("x".repeat(SUMMARY_LIMIT_BYTES), 1).heading("verdict", 2, 0).render();
    expect(bytes(md)).toBeLessThan(SUMMARY_LIMIT_BYTES);
    expect(md).toContain("verdict");
    expect(md).toContain("Note:");
  });

  describe("over budget", () => {
    const budget = 2000;
    const block = (tag: string, n = 600) => `${tag}:${"x".repeat(n)}\n`;

    it("drops the lowest-priority sections first, keeps the verdict, and says so", () => {
      const md = new SummaryBuilder(budget)
        .heading("VERDICT failed", 2, 0)
        .raw(block("P1-a", 500), 1)
        .raw(block("P2-a", 500), 2)
        .raw(block("P3", 500), 3)
        .raw(block("P1-b", 500), 1)
        .raw(block("P2-b", 500), 2)
        .render();
      expect(bytes(md)).toBeLessThanOrEqual(budget);
      expect(md).toContain("VERDICT failed");
      expect(md).toContain("P1-a");
      expect(md).toContain("P1-b");
      expect(md).toContain("P2-a");
      expect(md).not.toContain("P3");
      expect(md).not.toContain("P2-b");
      expect(md).toMatch(/> \*\*Note:\*\* 2 section\(s\) of detail were left out/);
    });

    it("among equal priorities drops the later section first", () => {
      const md = new SummaryBuilder(budget)
        .heading("V", 2, 0)
        .raw(block("first"), 2)
        .raw(block("second"), 2)
        .raw(block("third"), 2)
        .raw(block("fourth"), 2)
        .render();
      expect(md).toContain("first");
      expect(md).toContain("second");
      expect(md).not.toContain("fourth");
      expect(bytes(md)).toBeLessThanOrEqual(budget);
    });

    it("counts the note itself against the budget", () => {
      // 20 sections, 1 byte over budget: dropping one makes the sections fit, but not with the note.
      const b = new SummaryBuilder(budget).raw(`${"v".repeat(81)}\n`, 0);
      for (let i = 0; i < 19; i++) b.raw(`${String(i).padStart(2, "0")}${"x".repeat(97)}\n`, 1);
      const md = b.render();
      expect(md).toContain("Note:");
      expect(md).toContain("v".repeat(81));
      expect(bytes(md)).toBeLessThanOrEqual(budget);
    });

    it("truncates a single oversized section at a line boundary, with a note", () => {
      const lines = Array.from({ length: 500 }, (_, i) => `| finding ${i} | ${"y".repeat(20)} |`);
      const md = new SummaryBuilder(budget).raw(`${lines.join("\n")}\n`, 1).render();
      expect(bytes(md)).toBeLessThanOrEqual(budget);
      expect(md).toContain("| finding 0 |");
      expect(md).not.toContain("| finding 499 |");
      expect(md).toMatch(/> \*\*Note:\*\* summary truncated/);
      const body = md.slice(0, md.indexOf("> **Note:**")).trimEnd();
      for (const line of body.split("\n")) expect(lines).toContain(line);
    });

    it("truncates an oversized verdict rather than dropping it", () => {
      const md = new SummaryBuilder(budget)
        .heading("VERDICT", 2, 0)
        .paragraph(`start ${"word ".repeat(1000)}`, 0)
        .raw(block("detail"), 2)
        .render();
      expect(bytes(md)).toBeLessThanOrEqual(budget);
      expect(md).toContain("VERDICT");
      expect(md).toContain("start word");
      expect(md).not.toContain("detail:");
      expect(md).toContain("truncated");
    });

    it("never exceeds the budget, with multi-byte text and any mix of sections", () => {
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 48271) % 2147483647;
        return seed % n;
      };
      for (let round = 0; round < 200; round++) {
        const budgetBytes = 500 + rand(3000);
        const b = new SummaryBuilder(budgetBytes);
        const count = 1 + rand(8);
        for (let i = 0; i < count; i++) {
          const text = "é✓𝄞x\n".repeat(rand(400)) + "z".repeat(rand(2000));
          b.raw(text, rand(4));
        }
        const md = b.render();
        expect(bytes(md), `round ${round}`).toBeLessThanOrEqual(budgetBytes);
        expect(md).not.toContain("\uFFFD");
      }
    });
  });
});
