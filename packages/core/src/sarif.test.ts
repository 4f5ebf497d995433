import { describe, expect, it } from "vitest";
import { sarifLocation, sarifLog } from "./sarif.ts";

describe("sarif", () => {
  it("wraps rules and results in one run of our driver", () => {
    const log = sarifLog({ name: "platform-x", version: "1.2.3" }, [{ id: "R1" }], [{ ruleId: "R1" }]);
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]!.tool.driver).toMatchObject({
      name: "platform-x",
      semanticVersion: "1.2.3",
      rules: [{ id: "R1" }],
    });
    expect(log.runs[0]!.results).toEqual([{ ruleId: "R1" }]);
    expect(sarifLog({ name: "n" }, [], []).runs[0]!.tool.driver).not.toHaveProperty("semanticVersion");
  });

  it("writes forward-slash URIs and never a line below 1", () => {
    expect(sarifLocation("a\\b.yaml", 0)).toEqual({
      physicalLocation: { artifactLocation: { uri: "a/b.yaml" }, region: { startLine: 1 } },
    });
    expect(sarifLocation("c.bicep", 7, 3).physicalLocation.region).toEqual({ startLine: 7, startColumn: 3 });
  });
});
