import { describe, expect, it } from "vitest";
import { joinRegistry, normaliseRepository, parseImage } from "./image.ts";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("normaliseRepository", () => {
  it.each([
    ["nginx", "docker.io/library/nginx"],
    ["library/nginx", "docker.io/library/nginx"],
    ["docker.io/nginx", "docker.io/library/nginx"],
    ["index.docker.io/library/nginx", "docker.io/library/nginx"],
    ["bitnami/nginx", "docker.io/bitnami/nginx"],
    ["Docker.IO/bitnami/nginx", "docker.io/bitnami/nginx"],
    ["NorthwindACR.azurecr.io/orders/api", "northwindacr.azurecr.io/orders/api"],
    ["localhost/app", "localhost/app"],
    ["localhost:5000/team/app", "localhost:5000/team/app"],
    ["[::1]:5000/app", "[::1]:5000/app"],
    ["ghcr.io/org/sub/app", "ghcr.io/org/sub/app"],
  ])("%s is %s", (name, repo) => {
    expect(normaliseRepository(name)).toBe(repo);
  });

  it("is undefined for references with a tag or digest, and for what is not an image", () => {
    for (const s of [
      "nginx:1.25",
      `nginx@${D}`,
      "",
      "{{ .Values.image }}",
      "Nginx",
      "a b",
      "http://x/y",
      "repo/",
    ])
      expect(normaliseRepository(s)).toBeUndefined();
  });
});

describe("parseImage", () => {
  it("splits name, tag and digest and says where tag and digest sit", () => {
    const ref = `registry.k8s.io:443/ingress-nginx/controller:v1.11.2@${D}`;
    const p = parseImage(ref)!;
    expect(p).toMatchObject({
      name: "registry.k8s.io:443/ingress-nginx/controller",
      repository: "registry.k8s.io:443/ingress-nginx/controller",
      tag: "v1.11.2",
      digest: D,
    });
    expect(ref.slice(...p.tagRange!)).toBe("v1.11.2");
    expect(ref.slice(...p.digestRange!)).toBe(D);
  });

  it("reads a port as part of the registry, not as a tag", () => {
    expect(parseImage("localhost:5000/app")).toEqual({
      name: "localhost:5000/app",
      repository: "localhost:5000/app",
    });
    expect(parseImage("localhost:5000/app:1")).toMatchObject({ name: "localhost:5000/app", tag: "1" });
  });

  it("rejects malformed tags and digests", () => {
    expect(parseImage("app:-bad")).toBeUndefined();
    expect(parseImage("app@sha256:xyz")).toBeUndefined();
    expect(parseImage(`app:${"t".repeat(129)}`)).toBeUndefined();
  });

  it("accepts only what the runtime accepts (core's grammar)", () => {
    for (const bad of [
      `app@sha256:${"a".repeat(32)}`,
      `app@sha256:${"A".repeat(64)}`,
      `app@md5:${"a".repeat(32)}`,
      `host:abc/app@${D}`,
    ])
      expect(parseImage(bad)).toBeUndefined();
  });
});

describe("joinRegistry", () => {
  it("joins the way chart templates do, and ignores an empty registry", () => {
    expect(joinRegistry("myacr.azurecr.io/", "orders/api")).toBe("myacr.azurecr.io/orders/api");
    expect(joinRegistry("", "orders/api")).toBe("orders/api");
    expect(joinRegistry(undefined, "nginx")).toBe("nginx");
  });
});
