import { describe, expect, it } from "vitest";
import { parseWaivers } from "./waivers.ts";

describe("parseWaivers", () => {
  it("reads waivers with their line", () => {
    const w = parseWaivers(
      "# accepted risks\nwaivers:\n  - id: GHSA-qq97-vm5h-rrhg\n    package: github.com/docker/distribution\n    reason: only used to parse references\n    owner: platform-team\n    expires: 2027-03-01\n",
      "w.yaml",
    );
    expect(w).toEqual([
      {
        id: "GHSA-qq97-vm5h-rrhg",
        package: "github.com/docker/distribution",
        reason: "only used to parse references",
        owner: "platform-team",
        expires: "2027-03-01",
        file: "w.yaml",
        line: 3,
      },
    ]);
    expect(parseWaivers("", "empty.yaml")).toEqual([]);
  });

  it.each([
    [
      "a bad id",
      "waivers:\n  - id: CVE-2024\n    reason: long enough reason\n    owner: a\n    expires: 2027-01-01\n",
      2,
      /waivers\.0\.id: must be a CVE-… or GHSA-… id/,
    ],
    [
      "no owner",
      "waivers:\n  - id: CVE-2024-1234\n    reason: long enough reason\n    expires: 2027-01-01\n",
      2,
      /waivers\.0\.owner/,
    ],
    [
      "a bad date",
      "waivers:\n  - id: CVE-2024-1234\n    reason: long enough reason\n    owner: a\n    expires: next year\n",
      5,
      /expires: must be a date/,
    ],
    [
      "an unknown key",
      "waivers:\n  - id: CVE-2024-1234\n    reason: long enough reason\n    owner: a\n    expires: 2027-01-01\n    rule: x\n",
      2,
      /waivers\.0/,
    ],
    ["a duplicate key", "waivers:\n  - id: CVE-2024-1234\n    id: CVE-2024-1235\n", 3, /invalid YAML/],
  ])("rejects %s with file:line", (_, text, line, message) => {
    expect(() => parseWaivers(text, "ci/waivers.yaml")).toThrowError(
      expect.objectContaining({
        code: "SCAN_WAIVERS_INVALID",
        file: "ci/waivers.yaml",
        line,
        message: expect.stringMatching(message),
      }),
    );
  });
});
