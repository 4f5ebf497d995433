import { describe, expect, it } from "vitest";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { parseConfig } from "./config.ts";

const FLEET = `fleet:
  members:
    - name: canary
      path: clusters/canary
    - name: aks-prod-eu
      path: [clusters/prod, clusters/prod-eu]
`;

describe("platform.yaml fleet", () => {
  it("reads each member's config-repo paths (one path or a list)", () => {
    const fleet = parseConfig(FLEET, "platform.yaml").fleet!;
    expect(fleet.members).toEqual([
      { name: "canary", path: "clusters/canary" },
      { name: "aks-prod-eu", path: ["clusters/prod", "clusters/prod-eu"] },
    ]);
    expect(parseConfig("registries: {}\n", "p.yaml").fleet).toBeUndefined();
  });

  it.each([
    ["a member listed twice", FLEET.replace("name: aks-prod-eu", "name: Canary"), 5, "fleet.members.1.name"],
    [
      "an absolute path",
      FLEET.replace("path: clusters/canary", "path: /etc/canary"),
      4,
      "fleet.members.0.path",
    ],
    [
      "an empty path list",
      FLEET.replace("[clusters/prod, clusters/prod-eu]", "[]"),
      6,
      "fleet.members.1.path",
    ],
    [
      "a member without a path",
      FLEET.replace("      path: clusters/canary\n", ""),
      3,
      "fleet.members.0.path",
    ],
    ["a bad member name", FLEET.replace("name: canary", "name: can ary"), 3, "fleet.members.0.name"],
    [
      "an unknown key",
      FLEET.replace("      path: clusters/canary\n", "      path: clusters/canary\n      stage: one\n"),
      5,
      "fleet.members.0",
    ],
  ])("rejects %s at its line", (_what, text, line, where) => {
    expect(thrownPlatformError(() => parseConfig(text, "platform.yaml"))).toMatchObject({
      code: "CONFIG_INVALID",
      file: "platform.yaml",
      line,
      column: expect.any(Number),
      message: expect.stringMatching(new RegExp(`^${where.replace(/\./g, "\\.")}`)),
    });
  });
});
