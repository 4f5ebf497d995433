import { PlatformError } from "@platform/core";
import type { Point, RangeSeries } from "./prometheus.ts";
import type { LabelMatcher } from "./promql.ts";
import type { MetricQuery, MetricsBackend, QueryShape, RangeWindow } from "./sources.ts";

/**
 * Offline replay of an OpenMetrics file, for what-if analysis and the demo.
 *
 * Deliberately not a PromQL engine: it evaluates only the query shape the built-in mesh sources
 * issue, `sum by (labels) (increase(metric{matchers}[window]))`, with Prometheus's own extrapolation
 * rules (counter resets, extrapolation to the window edges, NaN propagating through the sum), and
 * rejects anything else — custom PromQL needs a real Prometheus (backfill the same file with
 * `promtool tsdb create-blocks-from openmetrics`). Windows are left-open, (t − window, t], as in
 * Prometheus 3; Prometheus 2 also counts a sample exactly on the left edge.
 */
export interface ReplaySeries {
  labels: Record<string, string>;
  points: Point[];
}

export interface ParseLimits {
  /** Largest file accepted (default 64 MiB). */
  maxBytes?: number;
  /** Most distinct series (default 100,000). */
  maxSeries?: number;
}

/** Parses OpenMetrics text (timestamps in seconds) into series keyed by name and labels. */
export function parseOpenMetrics(text: string, limits: ParseLimits = {}, file?: string): ReplaySeries[] {
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const maxSeries = limits.maxSeries ?? 100_000;
  if (Buffer.byteLength(text, "utf8") > maxBytes) {
    throw new PlatformError("REPLAY_TOO_LARGE", `The OpenMetrics file is larger than ${maxBytes} bytes`, {
      file,
      input: "prometheus-url",
      hint: "Replay a shorter time range, or backfill the file into a real Prometheus with promtool.",
    });
  }
  const series = new Map<string, ReplaySeries>();
  const lines = text.split("\n");
  let sawEof = false;
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.replace(/\r$/, "");
    if (line === "" || (line.startsWith("#") && line !== "# EOF")) continue;
    if (line === "# EOF") {
      sawEof = true;
      break;
    }
    const parsed = parseSampleLine(line);
    if (!parsed) {
      throw new PlatformError(
        "REPLAY_PARSE",
        `Line ${ln + 1} is not an OpenMetrics sample: ${line.slice(0, 80)}`,
        {
          file,
          line: ln + 1,
          input: "prometheus-url",
          hint: 'Each sample reads `name{label="value"} <value> <unix seconds>`; the file ends with `# EOF`.',
        },
      );
    }
    if (parsed.t === undefined) {
      throw new PlatformError("REPLAY_NO_TIMESTAMP", `Line ${ln + 1} has no timestamp; a replay needs them`, {
        file,
        line: ln + 1,
        input: "prometheus-url",
        hint: "Add the sample's unix time in seconds after the value.",
      });
    }
    const labels = { __name__: parsed.name, ...parsed.labels };
    const key = seriesKey(labels);
    let s = series.get(key);
    if (!s) {
      if (series.size >= maxSeries) {
        throw new PlatformError("REPLAY_TOO_MANY_SERIES", `The file holds more than ${maxSeries} series`, {
          file,
          input: "prometheus-url",
        });
      }
      s = { labels, points: [] };
      series.set(key, s);
    }
    s.points.push({ t: Math.round(parsed.t * 1000), v: parsed.v });
  }
  if (!sawEof) {
    throw new PlatformError("REPLAY_NO_EOF", "The OpenMetrics file does not end with `# EOF` (truncated?)", {
      file,
      input: "prometheus-url",
      hint: "OpenMetrics exposition ends with a `# EOF` line; a file without it may be cut short.",
    });
  }
  for (const s of series.values()) s.points.sort((a, b) => a.t - b.t);
  return [...series.values()];
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseSampleLine(
  line: string,
): { name: string; labels: Record<string, string>; v: number; t: number | undefined } | undefined {
  const m = NAME.exec(line);
  if (!m) return undefined;
  const name = m[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    while (line[pos] !== "}") {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (!ln || line[pos + ln[0].length] !== "=" || line[pos + ln[0].length + 1] !== '"') return undefined;
      pos += ln[0].length + 2;
      let value = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) return undefined;
        if (c === '"') break;
        if (c === "\\") {
          const e = line[pos + 1];
          value += e === "n" ? "\n" : e === '"' ? '"' : e === "\\" ? "\\" : `\\${e ?? ""}`;
          pos += 2;
        } else {
          value += c;
          pos++;
        }
      }
      labels[ln[0]] = value;
      pos++;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") return undefined;
    }
    pos++;
  }
  // Value, optional timestamp, optional exemplar (ignored).
  const rest = line.slice(pos).split(" # ")[0]!.trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === "") return undefined;
  const v = parseValue(rest[0]!);
  if (v === undefined) return undefined;
  const t = rest[1] === undefined ? undefined : Number(rest[1]);
  if (t !== undefined && !Number.isFinite(t)) return undefined;
  return { name, labels, v, t };
}

function parseValue(s: string): number | undefined {
  if (s === "NaN") return Number.NaN;
  if (s === "+Inf" || s === "Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

/** A MetricsBackend answering the built-in sources' queries from parsed OpenMetrics series. */
export function replayBackend(series: ReplaySeries[], describe = "OpenMetrics replay"): MetricsBackend {
  let last = Number.NEGATIVE_INFINITY;
  let first = Number.POSITIVE_INFINITY;
  for (const s of series) {
    for (const p of s.points) {
      if (p.t > last) last = p.t;
      if (p.t < first) first = p.t;
    }
  }
  return {
    describe,
    ...(Number.isFinite(last) ? { lastTimestamp: last, firstTimestamp: first } : {}),
    async range(query: MetricQuery, window: RangeWindow) {
      if (!query.shape) {
        throw new PlatformError(
          "REPLAY_UNSUPPORTED_QUERY",
          "The OpenMetrics replay cannot evaluate custom PromQL",
          {
            input: "queries",
            hint: "Replay supports the istio and cilium meshes; for custom queries backfill the file into Prometheus (promtool tsdb create-blocks-from openmetrics) and point prometheus-url at it.",
          },
        );
      }
      return { series: evaluateRange(series, query.shape, window), warnings: [] };
    },
  };
}

/** Evaluates `sum by (by) (increase(metric{matchers}[window]))` at every step of the range. */
export function evaluateRange(
  all: readonly ReplaySeries[],
  shape: QueryShape,
  w: RangeWindow,
): RangeSeries[] {
  const tests = shape.matchers.map(matcherTest);
  const selected = all.filter((s) => s.labels.__name__ === shape.metric && tests.every((t) => t(s.labels)));
  const windowMs = shape.windowSeconds * 1000;
  const groups = new Map<string, { labels: Record<string, string>; values: Map<number, number> }>();
  for (const s of selected) {
    const labels = Object.fromEntries(
      shape.by.map((b) => [b, s.labels[b] ?? ""]).filter(([, v]) => v !== ""),
    );
    const key = seriesKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { labels, values: new Map() };
      groups.set(key, g);
    }
    for (let t = w.start; t <= w.end; t += w.stepSeconds * 1000) {
      const v = increase(s.points, t - windowMs, t);
      if (v !== undefined) g.values.set(t, (g.values.get(t) ?? 0) + v);
    }
  }
  return [...groups.values()]
    .filter((g) => g.values.size > 0)
    .map((g) => ({
      labels: g.labels,
      points: [...g.values.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, v })),
    }));
}

function matcherTest(m: LabelMatcher): (labels: Record<string, string>) => boolean {
  const re = m.op === "=~" || m.op === "!~" ? new RegExp(`^(?:${m.value})$`) : undefined;
  return (labels) => {
    const v = labels[m.name] ?? "";
    switch (m.op) {
      case "=":
        return v === m.value;
      case "!=":
        return v !== m.value;
      case "=~":
        return re!.test(v);
      case "!~":
        return !re!.test(v);
    }
  };
}

/**
 * Prometheus's `increase` (promql/functions.go extrapolatedRate): the counter's rise over the
 * samples in (start, end], corrected for resets, extrapolated towards the window edges unless
 * the series starts or ends well inside it, and never below the counter's zero point.
 */
export function increase(points: readonly Point[], start: number, end: number): number | undefined {
  let lo = 0;
  while (lo < points.length && points[lo]!.t <= start) lo++;
  let hi = lo;
  while (hi < points.length && points[hi]!.t <= end) hi++;
  const n = hi - lo;
  if (n < 2) return undefined;
  const first = points[lo]!;
  const last = points[hi - 1]!;
  let result = last.v - first.v;
  let prev = first.v;
  for (let i = lo + 1; i < hi; i++) {
    const v = points[i]!.v;
    if (v < prev) result += prev;
    prev = v;
  }
  const sampled = (last.t - first.t) / 1000;
  let toStart = (first.t - start) / 1000;
  const toEnd = (end - last.t) / 1000;
  const average = sampled / (n - 1);
  if (result > 0 && first.v >= 0) {
    const toZero = sampled * (first.v / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let extrapolated = sampled;
  extrapolated += toStart < threshold ? toStart : average / 2;
  extrapolated += toEnd < threshold ? toEnd : average / 2;
  return result * (extrapolated / sampled);
}
