import { describe, expect, it } from "vitest";
import { checkImageReference, isTrustedImage, parseImageRef } from "./image.ts";

const D = `sha256:${"0".repeat(64)}`;

describe("parseImageRef", () => {
  it.each([
    ["nginx", { registry: "docker.io", repository: "library/nginx", tag: undefined, digest: undefined }],
    ["nginx:1.27", { registry: "docker.io", repository: "library/nginx", tag: "1.27" }],
    ["bitnami/redis", { registry: "docker.io", repository: "bitnami/redis" }],
    ["index.docker.io/library/busybox:1", { registry: "docker.io", repository: "library/busybox", tag: "1" }],
    ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
    ["localhost/app", { registry: "localhost", repository: "app" }],
    [
      `acr.azurecr.io/team/api:v1@${D}`,
      { registry: "acr.azurecr.io", repository: "team/api", tag: "v1", digest: D },
    ],
    [
      `acr.azurecr.io/team/api@${D}`,
      { registry: "acr.azurecr.io", repository: "team/api", tag: undefined, digest: D },
    ],
    ["[::1]:5000/app:tag", { registry: "[::1]:5000", repository: "app", tag: "tag" }],
  ])("%s", (ref, want) => {
    const r = parseImageRef(ref);
    expect(r).toMatchObject(want);
    expect(r.valid).toBe(true);
  });

  // Each of these the runtime refuses (distribution/reference, then containerd's digest check).
  it.each([
    "library/UPPER",
    "acr.io/app@sha256:short",
    "acr.io/app:bad tag",
    "acr.io/",
    `acr.io/app@sha256:${"a".repeat(32)}`,
    `acr.io/app@sha256:${"A".repeat(64)}`,
    `acr.io/app@md5:${"a".repeat(32)}`,
    ` acr.io/app@${D}`,
    `acr.io/app@${D} `,
    `host:abc/app@${D}`,
    `https://acr.io/app@${D}`,
    "a".repeat(64),
  ])("rejects %j", (ref) => {
    expect(parseImageRef(ref).valid).toBe(false);
    expect(checkImageReference(ref).ok).toBe(false);
  });

  it("accepts sha512 digests and upper-case registry hosts as the runtime does", () => {
    expect(parseImageRef(`acr.io/app@sha512:${"b".repeat(128)}`).valid).toBe(true);
    expect(parseImageRef("UPPER/case")).toMatchObject({ registry: "upper", repository: "case", valid: true });
  });
});

describe("isTrustedImage", () => {
  const trusted = ["acr.azurecr.io", "mcr.microsoft.com/oss/"];
  it("trusts a whole registry host", () =>
    expect(isTrustedImage(parseImageRef("acr.azurecr.io/x/y"), trusted)).toBe(true));
  it("trusts a path prefix on component boundaries only", () => {
    expect(isTrustedImage(parseImageRef("mcr.microsoft.com/oss/nginx"), trusted)).toBe(true);
    expect(isTrustedImage(parseImageRef("mcr.microsoft.com/ossevil/nginx"), trusted)).toBe(false);
    expect(isTrustedImage(parseImageRef("mcr.microsoft.com/dotnet/aspnet"), trusted)).toBe(false);
  });
  it("does not trust a look-alike host", () =>
    expect(isTrustedImage(parseImageRef("acr.azurecr.io.evil.com/x"), trusted)).toBe(false));
  it("normalises Docker Hub", () =>
    expect(isTrustedImage(parseImageRef("nginx"), ["docker.io/library"])).toBe(true));
});
