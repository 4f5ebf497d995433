import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { addTeam } from "./add.ts";
import { parseTeamsConfig } from "./validate.ts";

const FILE = join(import.meta.dirname, "../../../examples/northwind/platform.yaml");
const OWNER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const IMAGE = `northwindacr.azurecr.io/loyalty/api@sha256:${"c".repeat(64)}`;

describe("addTeam", () => {
  it("appends the team, keeping the rest of platform.yaml (comments included) byte for byte", async () => {
    const text = await readFile(FILE, "utf8");
    const out = addTeam(text, "platform.yaml", {
      name: "loyalty",
      namespace: "loyalty",
      owners: [OWNER],
      services: [`api:8081=${IMAGE}`],
    });
    const config = parseTeamsConfig(out, "platform.yaml");
    expect(config.teams.at(-1)).toMatchObject({
      name: "loyalty",
      namespace: "loyalty",
      owners: [OWNER],
      services: [{ name: "api", port: 8081, image: IMAGE }],
    });
    // Only the new item's lines are added: every byte already there (comments, flow styles) stays.
    const at = text.indexOf("tenancy:");
    const added = out.slice(at, out.length - (text.length - at));
    expect(out.slice(0, at) + out.slice(at + added.length)).toBe(text);
    expect(added.startsWith("  - name: loyalty\n    namespace: loyalty\n")).toBe(true);
  });

  it("refuses a team that would make platform.yaml invalid (taken namespace, bad owner, bad flag)", async () => {
    const text = await readFile(FILE, "utf8");
    const add = (over: Partial<Parameters<typeof addTeam>[2]>) => () =>
      addTeam(text, "platform.yaml", { name: "x", namespace: "x", owners: [OWNER], services: [], ...over });
    expect(add({ namespace: "orders" })).toThrow(/namespace "orders" is already team "orders"'s/);
    expect(add({ owners: ["loyalty-team"] })).toThrow(PlatformError);
    expect(add({ services: ["api:80"] })).toThrow(/is not <name>\[:<port>\]=<image@digest>/);
  });
});
