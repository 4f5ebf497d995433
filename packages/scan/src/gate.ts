import { type Finding, SEVERITIES, type Severity, severityRank } from "./finding.ts";
import type { ScanWaiver } from "./waivers.ts";

/** The severity at or above which a finding fails the gate. */
export type FailOn = Exclude<Severity, "unknown">;

export interface GateOptions {
  failOn: FailOn;
  /** Only findings with a fix available can fail the gate. */
  onlyFixed: boolean;
  waivers: ScanWaiver[];
  /** Today, for waiver expiry (injected so tests and replays are deterministic). */
  today: Date;
}

/** A waiver that matched, with the findings it covered. */
export interface WaiverUse {
  waiver: ScanWaiver;
  findings: Finding[];
}

export interface GateResult {
  passed: boolean;
  failOn: FailOn;
  onlyFixed: boolean;
  /** All findings, per severity (after merging duplicates). */
  counts: Record<Severity, number>;
  total: number;
  fixable: number;
  /** Findings that fail the gate (at/above the threshold, fixable when only-fixed, not waived). */
  failing: Finding[];
  /** At/above the threshold but let through by a live waiver. */
  waived: Finding[];
  /** At/above the threshold, but no fix exists and only-fixed is on. */
  unfixedIgnored: number;
  waiversUsed: WaiverUse[];
  /** Past their expiry: they waive nothing; the findings they named are judged like any other. */
  waiversExpired: ScanWaiver[];
  /** Live waivers that matched nothing in this image (candidates for clean-up). */
  waiversUnused: ScanWaiver[];
}

function waiverMatches(w: ScanWaiver, f: Finding): boolean {
  if (w.package !== undefined && w.package !== f.package) return false;
  return w.id === f.id || f.aliases.includes(w.id);
}

/** Decides the gate over a set of findings; pure, linear in findings × live waivers (usually few). */
export function evaluateGate(findings: Finding[], opts: GateOptions): GateResult {
  const day = opts.today.toISOString().slice(0, 10);
  const live: ScanWaiver[] = [];
  const waiversExpired: ScanWaiver[] = [];
  for (const w of opts.waivers) (w.expires >= day ? live : waiversExpired).push(w);
  // Waivers by id and alias so a large report does not scan every waiver per finding.
  const byId = new Map<string, ScanWaiver[]>();
  for (const w of live) byId.set(w.id, [...(byId.get(w.id) ?? []), w]);
  const uses = new Map<ScanWaiver, Finding[]>();

  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const threshold = severityRank(opts.failOn);
  const failing: Finding[] = [];
  const waived: Finding[] = [];
  let fixable = 0;
  let unfixedIgnored = 0;
  for (const f of findings) {
    counts[f.severity]++;
    if (f.fixable) fixable++;
    if (severityRank(f.severity) < threshold) continue;
    if (opts.onlyFixed && !f.fixable) {
      unfixedIgnored++;
      continue;
    }
    let waiver: ScanWaiver | undefined;
    if (byId.size > 0) {
      for (const id of [f.id, ...f.aliases]) {
        waiver = byId.get(id)?.find((w) => waiverMatches(w, f));
        if (waiver) break;
      }
    }
    if (waiver) {
      waived.push(f);
      uses.set(waiver, [...(uses.get(waiver) ?? []), f]);
    } else failing.push(f);
  }
  return {
    passed: failing.length === 0,
    failOn: opts.failOn,
    onlyFixed: opts.onlyFixed,
    counts,
    total: findings.length,
    fixable,
    failing,
    waived,
    unfixedIgnored,
    waiversUsed: [...uses].map(([waiver, fs]) => ({ waiver, findings: fs })),
    waiversExpired,
    waiversUnused: live.filter((w) => !uses.has(w)),
  };
}
