// Pod Security Admission's answers, read per control, and the built-in guardrail each control maps to.
import type { KubeResult } from "../../harness/apiserver.ts";

export type Level = "baseline" | "restricted";

/** A PSA control at a level, the built-in rule that covers it and how the two relate. */
export interface ControlRow {
  level: Level;
  /** The ForbiddenReason texts PSA reports for the control (k8s.io/pod-security-admission/policy). */
  reasons: string[];
  control: string;
  /** Counts only when the reason's detail matches (restricted reports hostPath as a restricted volume type). */
  detail?: RegExp;
  rule?: string;
  /** exact: verdicts must match; stricter: ours may also deny (by design, with the reason), never allow more. */
  relation: "exact" | "stricter" | "none";
  why?: string;
}

const BASELINE: Array<Omit<ControlRow, "level">> = [
  { control: "privileged", reasons: ["privileged"], rule: "PLAT005", relation: "exact" },
  { control: "host namespaces", reasons: ["host namespaces"], rule: "PLAT009", relation: "exact" },
  { control: "hostPath volumes", reasons: ["hostPath volumes"], rule: "PLAT010", relation: "exact" },
  { control: "hostPort", reasons: ["hostPort"], rule: "PLAT011", relation: "exact" },
  { control: "hostProcess", reasons: ["hostProcess"], relation: "none" },
  { control: "procMount", reasons: ["procMount"], relation: "none" },
  { control: "sysctls", reasons: ["forbidden sysctls"], relation: "none" },
  {
    control: "AppArmor",
    reasons: ["forbidden AppArmor profile", "forbidden AppArmor profiles"],
    relation: "none",
  },
  { control: "SELinux", reasons: ["seLinuxOptions"], relation: "none" },
];

/** The controls of each level; restricted includes baseline's, with capabilities and seccomp tightened. */
export const CONTROLS: ControlRow[] = [
  ...BASELINE.map((c) => ({ ...c, level: "baseline" as const })),
  {
    level: "baseline",
    control: "capabilities",
    reasons: ["non-default capabilities"],
    rule: "PLAT006",
    relation: "stricter",
    why: "PLAT006 implements restricted: drop ALL, add only policy.allowedCapabilities (baseline allows the default set without dropping)",
  },
  {
    level: "baseline",
    control: "seccomp",
    reasons: ["seccompProfile"],
    rule: "PLAT012",
    relation: "stricter",
    why: "PLAT012 implements restricted: RuntimeDefault or Localhost must be set (baseline only forbids Unconfined)",
  },
  // Restricted replaces baseline's hostPath check by its volume-type allow-list, which names the hostPath volumes.
  ...BASELINE.map((c) =>
    c.control === "hostPath volumes"
      ? { ...c, level: "restricted" as const, reasons: ["restricted volume types"], detail: /"hostPath"/ }
      : { ...c, level: "restricted" as const },
  ),
  {
    level: "restricted",
    control: "capabilities",
    reasons: ["unrestricted capabilities"],
    rule: "PLAT006",
    relation: "exact",
  },
  {
    level: "restricted",
    control: "seccomp",
    reasons: ["seccompProfile"],
    rule: "PLAT012",
    relation: "exact",
  },
  {
    level: "restricted",
    control: "privilege escalation",
    reasons: ["allowPrivilegeEscalation != false"],
    rule: "PLAT004",
    relation: "exact",
  },
  {
    level: "restricted",
    control: "runAsNonRoot + runAsUser",
    reasons: ["runAsNonRoot != true", "runAsUser=0"],
    rule: "PLAT003",
    relation: "exact",
  },
  { level: "restricted", control: "volume types", reasons: ["restricted volume types"], relation: "none" },
];

/** reason → detail (details of a reason reported twice, by enforce and by warn, are the same). */
export type PsaOutcome = { judged: true; reasons: Map<string, string> } | { judged: false; message: string };

const VIOLATION = /(?:violates|would violate) PodSecurity "[^"]+": (.*)$/;

/** The reasons in `a (detail), b (detail), c`, split at top-level commas: reason → detail. */
export function psaReasons(list: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let cur = "";
  for (const ch of `${list}, `) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    cur += ch;
    if (depth === 0 && cur.endsWith(", ")) {
      const item = cur.slice(0, -2).trim();
      const open = item.indexOf("(");
      if (item)
        out.set(open < 0 ? item : item.slice(0, open).trim(), open < 0 ? "" : item.slice(open + 1, -1));
      cur = "";
    }
  }
  return out;
}

/** What PSA said about one dry-run create: enforced (Pods are refused) or warned (workload templates). */
export function psaOutcome(res: KubeResult): PsaOutcome {
  const texts = [res.allowed ? "" : res.message, ...res.warnings];
  const reasons = new Map<string, string>();
  for (const t of texts) {
    const m = VIOLATION.exec(t);
    if (m) for (const [r, d] of psaReasons(m[1]!)) reasons.set(r, d);
  }
  if (!res.allowed && reasons.size === 0) return { judged: false, message: `${res.status} ${res.message}` };
  return { judged: true, reasons };
}

/** Whether PSA's answer shows this control violated. */
export function violates(row: ControlRow, outcome: { reasons: Map<string, string> }): boolean {
  return row.reasons.some(
    (r) => outcome.reasons.has(r) && (!row.detail || row.detail.test(outcome.reasons.get(r)!)),
  );
}
