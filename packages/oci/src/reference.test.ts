import { isPlatformError, type PlatformError, parseImageRef } from "@platform/core";
import { describe, expect, it } from "vitest";
import { apiHost, isLoopbackRegistry, parseReference } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", undefined, undefined],
    ["nginx:1.27", "docker.io", "library/nginx", "1.27", undefined],
    ["docker.io/nginx", "docker.io", "library/nginx", undefined, undefined],
    ["index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", undefined],
    ["registry-1.docker.io/bitnami/redis", "docker.io", "bitnami/redis", undefined, undefined],
    ["bitnami/redis:7", "docker.io", "bitnami/redis", "7", undefined],
    ["myacr.azurecr.io/team/app:v1", "myacr.azurecr.io", "team/app", "v1", undefined],
    ["MyACR.azurecr.io/team/app", "myacr.azurecr.io", "team/app", undefined, undefined],
    ["localhost/app", "localhost", "app", undefined, undefined],
    ["localhost:5000/app:v1", "localhost:5000", "app", "v1", undefined],
    ["127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", undefined, undefined],
    ["[::1]:5000/app:v1", "[::1]:5000", "app", "v1", undefined],
    ["[2001:db8::1]/app", "[2001:db8::1]", "app", undefined, undefined],
    [`ghcr.io/o/r@${D}`, "ghcr.io", "o/r", undefined, D],
    [`ghcr.io/o/r:v1@${D}`, "ghcr.io", "o/r", "v1", D],
    ["a.b/x__y.z-w---q:tag_1.2-3", "a.b", "x__y.z-w---q", "tag_1.2-3", undefined],
  ])("%s", (s, registry, repository, tag, digest) => {
    const r = parseReference(s);
    expect({ registry: r.registry, repository: r.repository, tag: r.tag, digest: r.digest }).toEqual({
      registry,
      repository,
      tag,
      digest,
    });
    // Canonical form re-parses to the same thing.
    expect(parseReference(r.toString()).toString()).toBe(r.toString());
    // Agrees with core's lenient classifier on valid references.
    const lenient = parseImageRef(s);
    expect(lenient.valid).toBe(true);
    expect([lenient.registry, lenient.repository]).toEqual([registry, repository]);
  });

  it.each([
    ["", "is empty"],
    [" nginx", "white space"],
    ["https://ghcr.io/o/r", "URL scheme"],
    ["ghcr.io/O/r", "must be lower-case"],
    ["ghcr.io/o/r:", "the tag is empty"],
    ["ghcr.io/o/r:-bad", 'the tag "-bad"'],
    [`ghcr.io/o/r:${"t".repeat(129)}`, "longer than 128"],
    ["ghcr.io/o/r@sha256:abc", 'the digest "sha256:abc"'],
    [`ghcr.io/o/r@sha256:${"A".repeat(64)}`, "lower-case hex"],
    [`ghcr.io/o/r@md5:${"a".repeat(32)}`, 'algorithm "md5"'],
    ["ghcr.io//r", "empty path component"],
    ["ghcr.io/o/r_/x", 'path component "r_"'],
    ["ghcr.io:99999/o", 'port "99999"'],
    ["bad_host.io/o", 'registry host "bad_host.io"'],
    ["[::1]:5000", "repository is missing"],
    ["[::1/app", "unclosed IPv6"],
    ["ghcr.io/", "repository is missing"],
    [`a.io/${"x".repeat(252)}`, "at most 255"],
    ["a".repeat(64), "image ID"],
  ])("rejects %j naming the bad part", (s, why) => {
    let err: unknown;
    try {
      parseReference(s, { input: "image" });
    } catch (e) {
      err = e;
    }
    expect(isPlatformError(err, "OCI_REFERENCE_INVALID")).toBe(true);
    expect((err as PlatformError).message).toContain(why);
    expect((err as PlatformError).input).toBe("image");
    expect((err as PlatformError).hint).toBeTruthy();
  });

  it("enforces a digest when asked", () => {
    expect(() => parseReference("ghcr.io/o/r:v1", { requireDigest: true })).toThrow(/has no digest/);
    expect(() => parseReference("ghcr.io/o/r", { requireTagOrDigest: true })).toThrow(
      /neither a tag nor a digest/,
    );
    expect(parseReference(`ghcr.io/o/r@${D}`, { requireDigest: true }).digest).toBe(D);
  });

  it("allows exactly 255 characters of name and 128 of tag", () => {
    const name = `a.io/${"x".repeat(250)}`;
    expect(parseReference(name).repository).toHaveLength(250);
    expect(parseReference(`a.io/r:${"t".repeat(128)}`).tag).toHaveLength(128);
  });
});

describe("hosts", () => {
  it("docker.io's API host", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("ghcr.io")).toBe("ghcr.io");
  });
  it.each([
    ["127.0.0.1:5000", true],
    ["127.1.2.3", true],
    ["localhost:5000", true],
    ["[::1]:5000", true],
    ["[::1]", true],
    ["10.0.0.1:5000", false],
    ["myacr.azurecr.io", false],
    ["localhost.evil.com", false],
    ["127.0.0.1.nip.io", false],
  ])("%s loopback=%s", (h, v) => {
    expect(isLoopbackRegistry(h)).toBe(v);
  });
});
