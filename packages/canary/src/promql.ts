import { PlatformError } from "@platform/core";

/** One label matcher of a vector selector, as our sources build them (never parsed from user text). */
export interface LabelMatcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The body of a double-quoted PromQL string literal holding `value` (quotes not included). */
export function escapeLabelValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

/** `value` as an RE2 pattern that matches exactly that text (Prometheus anchors regex matchers). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/** A regex matching exactly one of `values`. */
export function alternation(values: readonly string[]): string {
  return values.map(escapeRegex).join("|");
}

/** Renders matchers as the inside of `{…}`; label names are checked, values escaped. */
export function renderMatchers(matchers: readonly LabelMatcher[]): string {
  return matchers
    .map((m) => {
      if (!LABEL_NAME.test(m.name)) {
        throw new PlatformError("CANARY_LABEL_INVALID", `"${m.name}" is not a valid Prometheus label name`, {
          hint: "Label names are letters, digits and underscores, not starting with a digit.",
        });
      }
      return `${m.name}${m.op}"${escapeLabelValue(m.value)}"`;
    })
    .join(", ");
}

/** `sum by (<by>) (increase(<metric>{<matchers>}[<window>]))`. */
export function sumIncrease(
  metric: string,
  matchers: readonly LabelMatcher[],
  windowSeconds: number,
  by: readonly string[],
): string {
  if (!METRIC_NAME.test(metric)) {
    throw new PlatformError("CANARY_METRIC_INVALID", `"${metric}" is not a valid Prometheus metric name`);
  }
  for (const b of by) renderMatchers([{ name: b, op: "=", value: "" }]);
  return `sum by (${by.join(", ")}) (increase(${metric}{${renderMatchers(matchers)}}[${formatDuration(windowSeconds)}]))`;
}

/** Seconds as a PromQL duration (`90s`, `5m`, `1h`). */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new PlatformError(
      "CANARY_DURATION_INVALID",
      `${seconds} s is not a positive whole number of seconds`,
    );
  }
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Parses `30s`, `1m`, `1m30s`, `2h`, `1d`, `500ms` (or a bare number of seconds) into seconds. */
export function parseDuration(text: string, input?: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * unit[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length) {
    throw new PlatformError("CANARY_DURATION_INVALID", `"${text}" is not a duration`, {
      input,
      hint: "Write durations like 30s, 1m, 1m30s, 2h or 1d.",
    });
  }
  return total;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks a Kubernetes namespace name (RFC 1123 label); values are escaped anyway, this catches typos early. */
export function checkNamespace(ns: string): string {
  if (ns.length > 63 || !DNS_LABEL.test(ns)) {
    throw new PlatformError("CANARY_NAMESPACE_INVALID", `"${ns}" is not a valid Kubernetes namespace name`, {
      input: "namespace",
      hint: "Use the namespace the workloads run in: lower-case letters, digits and '-', at most 63 characters.",
    });
  }
  return ns;
}

/** Checks a Kubernetes object name (RFC 1123 subdomain), such as the Flagger target deployment. */
export function checkServiceName(name: string): string {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new PlatformError("CANARY_SERVICE_INVALID", `"${name}" is not a valid Kubernetes object name`, {
      input: "service",
      hint: "Use the name of the canary's target deployment (Flagger's targetRef), e.g. podinfo.",
    });
  }
  return name;
}

/** Values substituted into custom query templates. */
export interface TemplateValues {
  namespace: string;
  service: string;
  /** Matcher selecting both arms, e.g. `destination_workload=~"podinfo|podinfo-primary"`. */
  selector: string;
  /** Name of the label telling the arms apart. */
  label: string;
  /** Evaluation window, e.g. `1m`. */
  interval: string;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/**
 * Fills `{{namespace}}`, `{{service}}`, `{{selector}}`, `{{label}}` and `{{interval}}`. Namespace and
 * service are substituted as escaped string-literal bodies (the template supplies the quotes), the
 * selector as a complete matcher; an unknown placeholder is an error rather than left in the query.
 */
export function renderTemplate(template: string, values: TemplateValues, input = "queries"): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    switch (name) {
      case "namespace":
        return escapeLabelValue(values.namespace);
      case "service":
        return escapeLabelValue(values.service);
      case "selector":
        return values.selector;
      case "label":
        return values.label;
      case "interval":
        return values.interval;
      default:
        throw new PlatformError(
          "CANARY_TEMPLATE_UNKNOWN",
          `Unknown placeholder {{${name}}} in a custom query`,
          {
            input,
            hint: "Custom queries may use {{namespace}}, {{service}}, {{selector}}, {{label}} and {{interval}}.",
          },
        );
    }
  });
}
