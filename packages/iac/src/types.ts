/** A value the static evaluator could not know (a runtime function, a missing parameter, …); never guessed. */
export class UnknownValue {
  readonly reason: string;
  /** For a resource id known only at deployment (`sym.id`, `resourceId(…)`): the ARM type and name it points at. */
  readonly ref?: ResourceRef;
  constructor(reason: string, ref?: ResourceRef) {
    this.reason = reason;
    if (ref) this.ref = ref;
  }
}

/** The resource a resource id points at: full ARM type (`Microsoft.Network/privateDnsZones`) and name (`a/b` for children). */
export interface ResourceRef {
  type: string;
  name: Value;
  /** For `sym.id`: the symbol and file of the declaration named directly, so it is found without its name. */
  symbol?: { name: string; file: string };
}

/** A statically evaluated Bicep value: JSON, or unknown. */
export type Value = null | boolean | number | string | UnknownValue | Value[] | { [key: string]: Value };

export type Severity = "error" | "warning";

/** `fail`: the control is provably broken; `unknown`: it cannot be proven statically; `error`: the file could not be read or parsed. */
export type FindingVerdict = "fail" | "unknown" | "error";

/** One rule outcome worth reporting, located at the offending property (or the resource) in the .bicep source. */
export interface IacFinding {
  rule: string;
  severity: Severity;
  verdict: FindingVerdict;
  message: string;
  file: string;
  line: number;
  column?: number;
  /** ARM type and name of the resource the finding is about, when there is one. */
  resourceType?: string;
  resourceName?: string;
  /** Dotted property path relative to the resource, e.g. `properties.disableLocalAccounts`. */
  field?: string;
  /** Set when an `// iac-check: ignore <rule> <reason>` comment exempts it: reported, never blocking. */
  suppressed?: { justification: string; file: string; line: number };
}

/** A resource declaration evaluated into ARM shape; `body` is the whole declaration object (sku, properties, …). */
export interface ArmResource {
  symbol: string;
  type: string;
  apiVersion: string;
  name: Value;
  properties: Value;
  body: { [key: string]: Value };
  /** `true`/`false` when the `if` condition is known, `unknown` otherwise; `true` without a condition. */
  condition: boolean | "unknown";
  existing: boolean;
  /** The parent resource (nested declaration or `parent: sym`), when declared in the same file. */
  parent?: ArmResource;
  /** The resource an extension resource is deployed on (`scope: sym`), when declared in the same file. */
  scope?: ArmResource;
  file: string;
  line: number;
  /** Source line of a property path relative to `body`, falling back to the deepest located ancestor. */
  locate(path: readonly string[]): { file: string; line: number };
}

export interface CheckOptions {
  /** Workspace root: findings' files are relative to it. */
  root: string;
  /**
   * `.bicepparam` or ARM parameters JSON files supplying parameter values: a .bicepparam applies to the file it
   * is `using`; a JSON file (no `using`) to every checked root.
   */
  parameters?: string | readonly string[];
  /** Environment name: each root `<dir>/main.bicep` is checked with `<dir>/parameters/<env>.bicepparam` when it exists. */
  environment?: string;
}

export interface CheckResult {
  findings: IacFinding[];
  resources: ArmResource[];
  rulesEvaluated: number;
  /** The parameters files that were applied (relative to the root). */
  parameterFiles: string[];
}
