import { stripVTControlCharacters } from "node:util";

/** ANSI colours by name; the same codes policy check's table uses (31 fail, 32 pass, 33 warn, 35 error, 90 muted). */
const CODES = { red: 31, green: 32, yellow: 33, magenta: 35, grey: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** Wraps `s` in a colour when `on` (a TTY without NO_COLOR); otherwise returns it unchanged. */
export function paint(on: boolean, colour: Colour, s: string): string {
  return on ? `\x1b[${CODES[colour]}m${s}\x1b[0m` : s;
}

/** PASS/FAIL/WARN/… marks, padded to one width, coloured like policy check's. */
export function mark(on: boolean, verdict: "pass" | "fail" | "warn" | "error" | "skip" | "hold"): string {
  const colour: Record<typeof verdict, Colour> = {
    pass: "green",
    fail: "red",
    warn: "yellow",
    error: "magenta",
    skip: "grey",
    hold: "yellow",
  };
  return paint(on, colour[verdict], verdict.toUpperCase().padEnd(5));
}

/** An aligned text table: a bold header row, then rows; cells may carry colour (widths ignore it). */
export function textTable(header: string[], rows: string[][], opts: { color: boolean }): string {
  const width = (s: string) => [...stripVTControlCharacters(s)].length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - width(c))))
      .join("  ")
      .trimEnd();
  return [paint(opts.color, "bold", line(header)), ...rows.map(line)].join("\n");
}

/** A digest shortened for a terminal column: sha256: and 12 hex characters. */
export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1");
}
