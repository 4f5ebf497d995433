/** The verdict of one policy on one object (DESIGN.md's `policy check --json` vocabulary). */
export type Verdict = "pass" | "fail" | "warn" | "skip" | "error";

export type Severity = "error" | "warning";

/** Where an object came from: the YAML file and line, or the kustomization/chart that rendered it. */
export interface SourceRef {
  file: string;
  line: number;
  column?: number;
  renderer?: "kustomize" | "helm";
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [key: string]: unknown;
}

/** A manifest object with its provenance; `locate` maps a field path to file:line when the source is plain YAML. */
export interface LoadedObject {
  obj: KubeObject;
  source: SourceRef;
  locate(path: ReadonlyArray<string | number>): { file?: string; line: number; column?: number } | undefined;
}

/** One result row: DESIGN.md's JSON shape plus severity, rule title and the offending field. */
export interface PolicyResult {
  policy: string;
  kind: string;
  namespace: string;
  name: string;
  verdict: Verdict;
  message: string;
  file: string;
  line: number;
  column?: number;
  severity: Severity;
  title?: string;
  field?: string;
  /** Set when a waiver turned a failure into a skip. */
  waiver?: { owner: string; reason: string; expires: string; file: string; line: number };
}
