import { PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { parseTeamsConfig } from "./validate.ts";

const IMG = `northwindacr.azurecr.io/a/b@sha256:${"a".repeat(64)}`;
const OWNER = "3f2a1c9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b";

function errorOf(text: string): PlatformError {
  try {
    parseTeamsConfig(text, "platform.yaml");
  } catch (err) {
    if (err instanceof PlatformError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

const team = (name: string, ns: string, services: string) =>
  `  - name: ${name}\n    namespace: ${ns}\n    owners: ["${OWNER}"]\n    services:\n${services}`;
const svc = (name: string, extra = "") => `      - name: ${name}\n        image: ${IMG}\n${extra}`;

describe("parseTeamsConfig: bad input → errors at file:line", () => {
  it("refuses a service declared twice, at the second one", () => {
    const e = errorOf(`teams:\n${team("a", "a", svc("api") + svc("api"))}`);
    expect(e.code).toBe("TENANCY_INVALID");
    expect(e.message).toContain('service "api" is declared twice');
    expect([e.file, e.line]).toEqual(["platform.yaml", 8]);
  });

  it("refuses an unknown caller, at the caller", () => {
    const e = errorOf(`teams:\n${team("a", "a", svc("api", "        calledBy: [web, b/nope]\n"))}`);
    expect(e.message).toContain('caller "web" of "a/api" is not a declared service');
    expect(e.line).toBe(8);
    expect(e.column).toBe(20);
  });

  it("refuses a namespace two teams share", () => {
    const e = errorOf(`teams:\n${team("a", "shop", svc("api"))}${team("b", "shop", svc("web"))}`);
    expect(e.message).toContain(`namespace "shop" is already team "a"'s`);
    expect(e.line).toBe(9);
  });

  it("refuses an owner that is not an Entra object id", () => {
    const line = `    owners: [${OWNER}, northwind-web]`;
    const e = errorOf(`teams:\n  - name: a\n    namespace: a\n${line}\n`);
    expect(e.message).toContain('owner "northwind-web" is not an Entra group object id (a GUID)');
    expect([e.line, e.column]).toEqual([4, line.indexOf("northwind-web") + 1]);
    expect(e.hint).toContain("az ad group show");
  });

  it("refuses an image not pinned by digest, a client id that is not a GUID, a missing image", () => {
    expect(
      errorOf(
        `teams:\n${team("a", "a", "      - name: api\n        image: northwindacr.azurecr.io/a/b:1.0\n")}`,
      ).line,
    ).toBe(7);
    const id = errorOf(`teams:\n${team("a", "a", svc("api", "        clientId: not-a-guid\n"))}`);
    expect([id.message, id.line]).toEqual([
      'teams[0].services[0].clientId: clientId "not-a-guid" is not a GUID',
      8,
    ]);
    expect(errorOf(`teams:\n${team("a", "a", "      - name: api\n")}`).message).toContain("has no image");
  });

  it("refuses secrets without a Key Vault and a reserved namespace", () => {
    expect(errorOf(`teams:\n${team("a", "a", svc("api", "        secrets: [db]\n"))}`).message).toContain(
      "names no keyVault",
    );
    expect(errorOf(`teams:\n${team("a", "kube-public", svc("api"))}`).message).toContain("reserved");
  });

  it("refuses an exposed host that is not a host name, and a path Flux would substitute into", () => {
    const host = errorOf(`teams:\n${team("a", "a", svc("api", "        expose: { host: Shop_Example }\n"))}`);
    expect([host.message, host.line]).toEqual([
      'teams[0].services[0].expose.host: host "Shop_Example" is not a DNS host name',
      8,
    ]);
    const path = errorOf(
      `teams:\n${team("a", "a", svc("api", '        expose: { host: a.example, path: "/$' + '{X}" }\n'))}`,
    );
    expect(path.message).toContain("holds");
  });

  it("refuses a team name that is not a DNS label (it becomes a file path)", () => {
    const e = errorOf(`teams:\n${team("../escape", "a", svc("api"))}`);
    expect([e.message, e.line]).toEqual(['teams[0].name: team name "../escape" is not a DNS-1123 label', 2]);
  });

  it("keeps the schema's own errors at file:line:column (unknown key, bad pool)", () => {
    const e = errorOf(`teams:\n${team("a", "a", svc("api", "        pool: huge\n"))}`);
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.line).toBe(8);
    expect(errorOf(`teams:\n${team("a", "a", svc("api", "        colour: red\n"))}`).line).toBe(8);
  });

  it("accepts a caller cycle across teams", () => {
    const c = parseTeamsConfig(
      `teams:\n${team("a", "a", svc("api", "        calledBy: [b/web]\n"))}${team("b", "b", svc("web", "        calledBy: [a/api]\n"))}`,
      "platform.yaml",
    );
    expect(c.teams.map((t) => t.services[0]!.calledBy)).toEqual([["b/web"], ["a/api"]]);
  });
});
