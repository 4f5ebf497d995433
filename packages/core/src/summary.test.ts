import { describe, expect, it } from "vitest";
import { digestDetails, formatCount, headline, shortDigest, sourceLink, sourceUrl } from "./summary.ts";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;
const links = { serverUrl: "https://github.com", repository: "northwind/app", sha: "abc123" };

describe("summary pieces", () => {
  it("starts a headline with the verdict's icon and escapes its text", () => {
    expect(headline("pass", "Verified a|b")).toBe("## ✅ Verified a&#124;b\n");
    expect(headline("fail", "x")).toMatch(/^## ❌ /);
    expect(headline("pending", "x")).toMatch(/^## ⏳ /);
    expect(headline("unchecked", "x")).toMatch(/^## ⚠️ /);
  });

  it("writes counts with thousands separators, whatever the locale", () => {
    expect(formatCount(34161)).toBe("34,161");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1234567.891)).toBe("1,234,567.89");
  });

  it("shortens digests to 12 hex characters, also inside references, and keeps the full one in a <details>", () => {
    expect(shortDigest(D)).toBe("sha256:0123456789ab");
    expect(shortDigest(`r.io/app@${D}`)).toBe("r.io/app@sha256:0123456789ab");
    expect(shortDigest("v1.2.3")).toBe("v1.2.3");
    expect(digestDetails(D)).toBe(
      `<details><summary><code>sha256:0123456789ab</code></summary><code>${D}</code></details>`,
    );
    expect(digestDetails("a<b")).toBe("a&lt;b");
  });

  it("links file:line to the blob at the commit, only for files inside the checkout", () => {
    expect(sourceLink(links, "config repo/a.yaml", 23)).toBe(
      "[config repo/a.yaml:23](https://github.com/northwind/app/blob/abc123/config%20repo/a.yaml#L23)",
    );
    expect(sourceUrl({ ...links, serverUrl: "https://ghe.example/" }, "./a.yaml")).toBe(
      "https://ghe.example/northwind/app/blob/abc123/a.yaml",
    );
    for (const f of ["/tmp/a.yaml", "../other/a.yaml", "C:/a.yaml", ""])
      expect(sourceUrl(links, f, 1), f).toBeUndefined();
    expect(sourceUrl({ serverUrl: "https://github.com" }, "a.yaml", 1)).toBeUndefined();
    expect(sourceLink(undefined, "a[1].yaml", 2)).toBe("a&#91;1&#93;.yaml:2");
  });
});
