import { describe, expect, it } from "vitest";
import { jwtExpiry, parseWwwAuthenticate, roleHint, scopesCover } from "./auth.ts";

describe("parseWwwAuthenticate", () => {
  it("reads a Bearer challenge with commas inside the quoted scope", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://myacr.azurecr.io/oauth2/token",service="myacr.azurecr.io",scope="repository:team/app:pull,push"',
      ),
    ).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://myacr.azurecr.io/oauth2/token",
          service: "myacr.azurecr.io",
          scope: "repository:team/app:pull,push",
        },
      },
    ]);
  });
  it("reads error params, unquoted values, spaces and escaped quotes", () => {
    const [c] = parseWwwAuthenticate(
      'Bearer realm = "https://auth.docker.io/token" , service=registry.docker.io, error="insufficient_scope", x="a\\"b"',
    );
    expect(c).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        error: "insufficient_scope",
        x: 'a"b',
      },
    });
  });
  it("reads several challenges, schemes case-insensitive", () => {
    const cs = parseWwwAuthenticate(
      'Basic realm="Registry Realm", BEARER realm="https://t/x",scope="a:b:pull,push"',
    );
    expect(cs.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(cs[0]!.params.realm).toBe("Registry Realm");
    expect(cs[1]!.params.scope).toBe("a:b:pull,push");
  });
  it("tolerates garbage without throwing", () => {
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(parseWwwAuthenticate(",,, Basic").map((c) => c.scheme)).toEqual(["basic"]);
    expect(() => parseWwwAuthenticate('Bearer realm="unterminated')).not.toThrow();
  });
});

describe("scopes", () => {
  it("a pull,push token covers pull; pull does not cover push", () => {
    expect(scopesCover(["repository:a:pull,push"], ["repository:a:pull"])).toBe(true);
    expect(scopesCover(["repository:a:pull"], ["repository:a:pull,push"])).toBe(false);
    expect(scopesCover(["repository:a:pull,push"], ["repository:b:pull"])).toBe(false);
    expect(scopesCover(["repository:a:*"], ["repository:a:delete"])).toBe(true);
    expect(
      scopesCover(
        ["repository:dst:pull,push", "repository:src:pull"],
        ["repository:dst:pull,push", "repository:src:pull"],
      ),
    ).toBe(true);
  });
  it("names the role that grants a denied scope", () => {
    expect(roleHint("x.azurecr.io", ["repository:a:pull,push"])).toMatch(
      /AcrPush.*Container Registry Repository Writer/,
    );
    expect(roleHint("x.azurecr.io", ["repository:a:pull"])).toMatch(/AcrPull/);
    expect(roleHint("ghcr.io", ["repository:a:pull,push"])).toMatch(/push/);
  });
  it("reads a JWT's exp", () => {
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp: 2_000_000_000 })).toString("base64url")}.sig`;
    expect(jwtExpiry(jwt)).toBe(2_000_000_000_000);
    expect(jwtExpiry("opaque")).toBeUndefined();
  });
});
