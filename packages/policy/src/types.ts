/** The verdict of one policy on one object (DESIGN.md's `policy check --json` vocabulary). */
export type Verdict = "pass" | "fail" | "warn" | "skip" | "error";

export type Severity = "error" | "warning";

/** Where an object came from: the YAML file and line, or the kustomization/chart that rendered it. */
export interface SourceRef {
  file: string;
  line: number;
  column?: number;
  renderer?: "kustomize" | "helm";
  /** The kustomization or chart directory that rendered the object (several overlays may share one base). */
  via?: string;
}

/** Something a directory walk did not judge, and why (listed in the output, JSON and summary). */
export interface SkippedInput {
  path: string;
  line?: number;
  reason: string;
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
  /** For skips that are not waivers: a policy the cluster does not enforce (no binding). */
  notBound?: boolean;
  /** The kustomization or chart that rendered the object, when it came from a render. */
  via?: string;
  /**
   * Set when the policy could not be evaluated on the object (a CEL error) under actions that do not block
   * (Warn, Audit): the row is a warning, as the API server words it, and `policy test` still calls it an error.
   */
  evaluationError?: boolean;
  /** For error rows: a bad input (exit code 2) or a missing tool or environment (exit code 3). */
  cause?: "input" | "environment";
}
