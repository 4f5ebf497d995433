// The SARIF 2.1.0 envelope every report of ours shares (policy, iac, build-scan): one run, our tool as
// the driver, its rules and results, columns counted in Unicode code points (what editors show).
// Rules and results stay each producer's own; GitHub code scanning reads the file as is.

export interface SarifTool {
  /** Driver name, e.g. "platform-policy". */
  name: string;
  version?: string;
  informationUri?: string;
}

export type SarifLog = {
  $schema: string;
  version: "2.1.0";
  runs: Array<{
    tool: { driver: Record<string, unknown> };
    results: unknown[];
    columnKind: "unicodeCodePoints";
  }>;
};

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** A SARIF log with one run of `tool` carrying `rules` and `results`. */
export function sarifLog(tool: SarifTool, rules: unknown[], results: unknown[]): SarifLog {
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            ...(tool.version ? { semanticVersion: tool.version } : {}),
            informationUri: tool.informationUri ?? "https://github.com/org/platform",
            rules,
          },
        },
        results,
        columnKind: "unicodeCodePoints",
      },
    ],
  };
}

/** A physical location: the file as a forward-slash URI, a 1-based line (never below 1), a column if known. */
export function sarifLocation(file: string, line: number, column?: number) {
  return {
    physicalLocation: {
      artifactLocation: { uri: file.split("\\").join("/") },
      region: { startLine: Math.max(1, line), ...(column ? { startColumn: column } : {}) },
    },
  };
}
