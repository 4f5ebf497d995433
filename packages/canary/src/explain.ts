import { formatCount } from "@platform/core";
import type { Decision } from "./decide.ts";

/** The chart's line colours (GitHub's red and blue), named in the legend under it. */
export const CHART_COLORS = { canary: "#d1242f", primary: "#0969da" } as const;

/**
 * A mermaid `xychart-beta` of the error rate per arm and interval (in %), for job summaries, with a legend
 * line under it (xychart has no legend of its own in the mermaid GitHub runs). The canary is drawn last, so
 * it stays visible where the two lines meet. Intervals where an arm's series was missing are drawn as 0 and
 * listed below the chart, since mermaid lines cannot have gaps.
 */
export function errorRateChart(d: Decision, maxPoints = 60): string {
  const series = d.evidence.series.slice(-maxPoints);
  if (!series.length) return "";
  const start = d.evidence.startedAt;
  const labels = series.map((p) => `${Math.round((p.end - start) / 60000)}m`);
  const val = (v: number | null) => (v === null ? 0 : Number((v * 100).toFixed(4)));
  const canary = series.map((p) => val(p.canaryErrorRate));
  const primary = series.map((p) => val(p.primaryErrorRate));
  const top = Math.max(0.1, ...canary, ...primary);
  const missing = series
    .map((p, i) => (p.canaryErrorRate === null || p.primaryErrorRate === null ? labels[i] : undefined))
    .filter((l): l is string => l !== undefined);
  const chart = [
    "```mermaid",
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${CHART_COLORS.primary}, ${CHART_COLORS.canary}"}}}}%%`,
    "xychart-beta",
    `  title "Error rate per interval (%)"`,
    `  x-axis [${labels.map((l) => `"${l}"`).join(", ")}]`,
    `  y-axis "errors %" 0 --> ${Number((top * 1.2).toPrecision(2))}`,
    `  line [${primary.join(", ")}]`,
    `  line [${canary.join(", ")}]`,
    "```",
    "",
    "🟥 **canary** (red, drawn on top) · 🟦 **primary** (blue)",
  ].join("\n");
  return missing.length ? `${chart}\n\nNo data (drawn as 0) at: ${missing.join(", ")}.` : chart;
}

/** The evidence as a small markdown table: counts and rates per arm, and each test's statistic. */
export function evidenceTable(d: Decision): string {
  const e = d.evidence;
  const rate = (v: number | undefined) => (v === undefined ? "n/a" : `${(v * 100).toFixed(3)}%`);
  const rows = [
    "| | canary | primary |",
    "|---|---|---|",
    `| requests | ${formatCount(e.canary.requests)} | ${formatCount(e.primary.requests)} |`,
    `| errors | ${formatCount(e.canary.errors)} | ${formatCount(e.primary.errors)} |`,
    `| error rate | ${rate(e.canary.errorRate)} | ${rate(e.primary.errorRate)} |`,
  ];
  const tests = [
    "",
    "| test | ratio | ln M (harm) | threshold | ln M (not worse) | threshold |",
    "|---|---|---|---|---|---|",
    testRow("errors", e.errors),
    ...(e.latency ? [testRow(`latency > ${e.latency.boundary} ${e.latency.unit}`, e.latency)] : []),
  ];
  return [...rows, ...tests].join("\n");
}

function testRow(
  name: string,
  t: {
    ratio: number | undefined;
    harm: { logLR: number; logThreshold: number };
    nonInferiority: { logLR: number; logThreshold: number };
  },
): string {
  const f = (v: number | undefined) =>
    v === undefined ? "n/a" : Number.isFinite(v) ? v.toFixed(2) : v > 0 ? "∞" : "−∞";
  return `| ${name} | ${f(t.ratio)} | ${f(t.harm.logLR)} | ${f(t.harm.logThreshold)} | ${f(t.nonInferiority.logLR)} | ${f(t.nonInferiority.logThreshold)} |`;
}
