// Per-category agreement between our verdicts, gator's, and what the generator meant to break.

/**
 * For each category: objects flagged by both, only by ours, only by gator, by neither; and how often each
 * engine matches the generator's intent. `keys` is every generated object.
 */
export function compareVerdicts({ categories, keys, expected, ours, gator }) {
  const rows = [];
  const disagreements = [];
  let agree = 0;
  let total = 0;
  for (const cat of categories) {
    const row = {
      category: cat,
      both: 0,
      onlyOurs: 0,
      onlyGator: 0,
      neither: 0,
      expected: 0,
      oursWrong: 0,
      gatorWrong: 0,
    };
    for (const key of keys) {
      const e = expected.get(key)?.has(cat) ?? false;
      const o = ours.get(key)?.has(cat) ?? false;
      const g = gator.get(key)?.has(cat) ?? false;
      if (e) row.expected++;
      if (o !== e) row.oursWrong++;
      if (g !== e) row.gatorWrong++;
      if (o && g) row.both++;
      else if (o) row.onlyOurs++;
      else if (g) row.onlyGator++;
      else row.neither++;
      total++;
      if (o === g) agree++;
      else disagreements.push({ key, category: cat, ours: o, gator: g, expected: e });
    }
    row.agreement = keys.length ? (row.both + row.neither) / keys.length : 1;
    rows.push(row);
  }
  return { rows, agreement: total ? agree / total : 1, disagreements };
}

/** The agreement table as fixed-width text. */
export function renderAgreement(rows) {
  const head = [
    "category",
    "expected",
    "both",
    "only ours",
    "only gator",
    "neither",
    "agree",
    "ours≠intent",
    "gator≠intent",
  ];
  const body = rows.map((r) => [
    r.category,
    r.expected,
    r.both,
    r.onlyOurs,
    r.onlyGator,
    r.neither,
    `${(100 * r.agreement).toFixed(2)}%`,
    r.oursWrong,
    r.gatorWrong,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
