import { PlatformError, parseList } from "@platform/core";
import type { GateInput } from "./gate.ts";
import type { PrometheusAuth, TokenCredentialLike } from "./prometheus.ts";
import { parseDuration } from "./promql.ts";
import type { CustomQueries, Mesh } from "./sources.ts";

/** The canary-gate inputs as a user writes them (action inputs and CLI options share this shape). */
export interface GateOptions {
  namespace: string;
  service: string;
  mesh: "istio" | "cilium" | "custom";
  canarySelector?: string;
  primarySelector?: string;
  /** `requests: …`, `errors: …`, `latency: …` lines of PromQL for mesh: custom. */
  queries?: string;
  /** `availability=99.9%` and/or `latency=250` (histogram unit), comma- or line-separated. */
  slo?: string;
  interval?: string;
  maxDuration?: string;
  /** Evaluate as of this time (RFC 3339) — for replays and what-if analysis. */
  at?: string;
}

function selector(raw: string | undefined, input: string): { label: string; value: string } | undefined {
  if (!raw) return undefined;
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^"]+?)"?\s*$/.exec(raw);
  if (!m)
    throw new PlatformError("CANARY_BAD_SELECTOR", `${input} "${raw}" is not label=value`, {
      input,
      hint: "Write it as destination_workload=orders-api.",
    });
  return { label: m[1]!, value: m[2]! };
}

function queries(raw: string | undefined): CustomQueries | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const line of raw.split(/\r?\n/)) {
    const m = /^\s*(requests|errors|latency|latencyUnit)\s*:\s*(.+)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
    else if (line.trim() && !line.trim().startsWith("#")) {
      throw new PlatformError(
        "CANARY_BAD_QUERIES",
        `queries line "${line.trim()}" is not "requests: …", "errors: …" or "latency: …"`,
        { input: "queries", hint: "One PromQL template per line, prefixed by its role." },
      );
    }
  }
  if (!out.requests || !out.errors)
    throw new PlatformError("CANARY_BAD_QUERIES", "queries needs at least requests: and errors: templates", {
      input: "queries",
      hint: "Give both templates; latency: is optional.",
    });
  return out as unknown as CustomQueries;
}

function slo(raw: string | undefined): GateInput["decide"] {
  const decide: NonNullable<GateInput["decide"]> = {};
  for (const item of parseList(raw)) {
    const m = /^(availability|latency)\s*=\s*([0-9.]+)\s*(%|ms|s)?$/.exec(item);
    if (!m)
      throw new PlatformError(
        "CANARY_BAD_SLO",
        `slo "${item}" is not availability=<percent> or latency=<bound>`,
        { input: "slo", hint: "e.g. availability=99.9%, latency=250" },
      );
    const n = Number(m[2]);
    if (m[1] === "availability") decide.slo = { availability: m[3] === "%" || n > 1 ? n / 100 : n };
    else decide.latency = { ...decide.latency, slo: m[3] === "s" ? n * 1000 : n };
  }
  return decide;
}

/** Turns user-facing options into the engine's GateInput; every error names the input and the fix. */
export function gateInput(o: GateOptions): GateInput {
  if (!["istio", "cilium", "custom"].includes(o.mesh))
    throw new PlatformError("CANARY_BAD_MESH", `mesh "${o.mesh}" is not istio, cilium or custom`, {
      input: "mesh",
      hint: "Pick the mesh whose metrics Prometheus scrapes.",
    });
  const canary = selector(o.canarySelector, "canary-selector");
  const primary = selector(o.primarySelector, "primary-selector");
  if (canary && primary && canary.label !== primary.label) {
    throw new PlatformError(
      "CANARY_BAD_SELECTOR",
      "canary-selector and primary-selector must use the same label",
      { input: "primary-selector", hint: `Use ${canary.label}=… for both.` },
    );
  }
  const label = canary?.label ?? primary?.label;
  const at = o.at ? Date.parse(o.at) : undefined;
  if (o.at && Number.isNaN(at))
    throw new PlatformError("CANARY_BAD_TIME", `at "${o.at}" is not a time`, {
      input: "at",
      hint: "Use RFC 3339, e.g. 2026-11-25T14:00:00Z.",
    });
  return {
    mesh: o.mesh as Mesh,
    namespace: o.namespace,
    service: o.service,
    ...(label
      ? {
          selectors: {
            label,
            ...(canary ? { canary: canary.value } : {}),
            ...(primary ? { primary: primary.value } : {}),
          },
        }
      : {}),
    ...(o.queries ? { queries: queries(o.queries) } : {}),
    ...(o.interval ? { intervalSeconds: parseDuration(o.interval) } : {}),
    ...(o.maxDuration ? { maxDurationSeconds: parseDuration(o.maxDuration) } : {}),
    ...(at !== undefined ? { at } : {}),
    decide: slo(o.slo),
  };
}

/** Azure Monitor managed Prometheus (its query endpoint's host) needs an Entra token; other URLs none. */
export function authFor(url: string, credential: () => TokenCredentialLike): PrometheusAuth {
  try {
    const host = new URL(url).hostname;
    if (host.endsWith(".prometheus.monitor.azure.com")) return { type: "azure", credential: credential() };
  } catch {
    // file:// and malformed URLs: openBackend reports them.
  }
  return { type: "none" };
}
