import { describe, expect, it } from "vitest";
import { validateSarif } from "../../../test/harness/sarif.ts";
import { toSarif } from "./sarif.ts";
import type { PolicyResult } from "./types.ts";

const row = (over: Partial<PolicyResult>): PolicyResult => ({
  policy: "PLAT002/image-digest",
  kind: "Pod",
  namespace: "t",
  name: "p",
  verdict: "fail",
  message: "not pinned",
  file: "a/b.yaml",
  line: 4,
  column: 7,
  severity: "error",
  ...over,
});

describe("SARIF 2.1.0", () => {
  it("is valid against the official schema, with rules, levels, regions and suppressions", () => {
    const log = toSarif(
      [
        row({}),
        row({ verdict: "warn", policy: "PLAT017/prefer-gateway-api", severity: "warning" }),
        row({
          verdict: "skip",
          waiver: { owner: "@o", reason: "r", expires: "2027-01-01", file: "w.yaml", line: 2 },
        }),
        row({ verdict: "error", policy: "input/parse", kind: "", line: 0, column: undefined }),
        row({ verdict: "pass" }),
      ],
      { version: "1.2.3" },
    );
    expect(validateSarif(log)).toEqual([]);
    const run = (
      log.runs as Array<{ results: Array<Record<string, unknown>>; tool: { driver: { rules: unknown[] } } }>
    )[0]!;
    expect(run.results.map((r) => r.level)).toEqual(["error", "warning", "note", "error"]);
    expect(run.tool.driver.rules).toHaveLength(3);
    expect(run.results[2]!.suppressions).toEqual([
      { kind: "external", justification: "r (owner @o, expires 2027-01-01)" },
    ]);
    expect(JSON.stringify(run.results[3])).toContain('"startLine":1');
  });

  it("the schema check is real: it rejects a malformed log", () => {
    expect(
      validateSarif({ version: "2.1.0", runs: [{ results: [{ level: "fatal" }] }] }).length,
    ).toBeGreaterThan(0);
  });
});
