import { escapeMarkdown, headline, markdownTable, type TableRow, type Verdict } from "@platform/core/summary";

// The escaping rule and the table writer live in core, beside the other summary pieces the domain packages use.
export { escapeMarkdown };

/** GitHub rejects step summaries over 1 MiB; keep a margin for the truncation note. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

interface Section {
  markdown: string;
  /** Lower numbers are kept longest when the summary is over budget (0 = verdict). */
  priority: number;
}

/** A markdown step summary built in memory, with a byte budget that drops low-priority detail visibly. */
export class SummaryBuilder {
  private readonly sections: Section[] = [];

  private readonly budgetBytes: number;

  constructor(budgetBytes = SUMMARY_LIMIT_BYTES - 16 * 1024) {
    this.budgetBytes = budgetBytes;
  }

  heading(text: string, level = 2, priority = 0): this {
    return this.raw(`${"#".repeat(level)} ${escapeMarkdown(text)}\n`, priority);
  }

  /** The summary's first line: a heading that starts with ✅, ❌ or ⏳ (never dropped for size). */
  verdict(verdict: Verdict, text: string): this {
    return this.raw(headline(verdict, text), 0);
  }

  paragraph(text: string, priority = 0): this {
    return this.raw(`${escapeMarkdown(text)}\n`, priority);
  }

  /** A table (see markdownTable); its rows are detail, dropped before the verdict when over budget. */
  table(header: string[], rows: TableRow[], priority = 1): this {
    return this.raw(markdownTable(header, rows), priority);
  }

  details(summary: string, body: string, priority = 2): this {
    return this.raw(
      `<details><summary>${escapeMarkdown(summary)}</summary>\n\n${body}\n</details>\n`,
      priority,
    );
  }

  mermaid(source: string, priority = 2): this {
    return this.raw(`\`\`\`mermaid\n${source}\n\`\`\`\n`, priority);
  }

  raw(markdown: string, priority = 1): this {
    this.sections.push({ markdown, priority });
    return this;
  }

  /**
   * The summary within budget: drops the lowest-priority sections first and says what it left out.
   * The verdict (priority 0) and the last remaining section are never dropped, only truncated.
   */
  render(): string {
    const size = (s: string) => Buffer.byteLength(s, "utf8");
    const dropNote = (n: number) =>
      `\n> **Note:** ${n} section(s) of detail were left out to stay under GitHub's 1 MiB step-summary limit; the full result is in the \`result\` output and the SARIF file.\n`;
    let kept = this.sections.map((s, i) => ({ ...s, i }));
    let dropped = 0;
    // The note counts against the budget too.
    const total = () =>
      kept.reduce((n, s) => n + size(s.markdown) + 1, 0) + (dropped > 0 ? size(dropNote(dropped)) : 0);
    while (total() > this.budgetBytes && kept.length > 1) {
      const droppable = kept.filter((s) => s.priority > 0);
      if (droppable.length === 0) break;
      const worst = droppable.reduce((a, b) =>
        b.priority > a.priority || (b.priority === a.priority && b.i > a.i) ? b : a,
      );
      kept = kept.filter((s) => s !== worst);
      dropped++;
    }
    let out = kept.map((s) => s.markdown).join("\n");
    if (dropped > 0) out += dropNote(dropped);
    // What is left can still be too large: cut it at a line boundary, visibly, note included.
    if (size(out) > this.budgetBytes) {
      const note = `\n\n> **Note:** summary truncated at ${this.budgetBytes} bytes (GitHub's step-summary limit is 1 MiB).\n`;
      const room = Math.max(0, this.budgetBytes - size(note));
      // A cut inside a multi-byte character decodes to U+FFFD, which may be longer than the cut bytes.
      let head = Buffer.from(out, "utf8")
        .subarray(0, room)
        .toString("utf8")
        .replace(/\uFFFD+$/, "");
      // Prefer a line boundary, unless that would throw away most of what fits (one long line).
      const lastLine = head.lastIndexOf("\n");
      if (lastLine >= head.length / 2) head = head.slice(0, lastLine);
      out = `${head}${note}`;
    }
    return out;
  }
}
