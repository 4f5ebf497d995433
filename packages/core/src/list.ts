export interface ParseListOptions {
  /** Whether a comma separates items (true for tags, environments; false for queries, labels). */
  comma?: boolean;
}

/**
 * One list grammar for every list input: items separated by newlines (and commas unless
 * `comma: false`), blank lines and `#` comment lines skipped, items trimmed, and a double-quoted
 * item kept whole so it may contain commas ("a,b" stays one item).
 */
export function parseList(raw: string | undefined, opts: ParseListOptions = {}): string[] {
  if (!raw) return [];
  const comma = opts.comma ?? true;
  const out: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (!comma) {
      out.push(unquote(trimmed));
      continue;
    }
    let cur = "";
    let quoted = false;
    for (let i = 0; i < trimmed.length; i++) {
      const ch = trimmed[i];
      if (ch === '"') {
        if (quoted && trimmed[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = !quoted;
      } else if (ch === "," && !quoted) {
        if (cur.trim()) out.push(cur.trim());
        cur = "";
      } else cur += ch;
    }
    if (cur.trim()) out.push(cur.trim());
  }
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}
