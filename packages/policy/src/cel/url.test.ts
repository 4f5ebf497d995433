import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);

describe("Kubernetes URL library", () => {
  it("runs the kubernetes.io examples and the library's doc-comment examples", () => {
    const cases: Array<[string, unknown]> = [
      ["url('https://example.com:80/').getHost()", "example.com:80"],
      ["url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"],
      ["isURL('https://user:pass@example.com:80/path?query=val#fragment')", true],
      ["isURL('/absolute-path')", true],
      ["isURL('https://a:b:c/')", false],
      ["isURL('../relative-path')", false],
      ["url('/path').getScheme()", ""],
      ["url('https://example.com/').getScheme()", "https"],
      ["url('https://example.com/').getHost()", "example.com"],
      ["url('https://[::1]:80/').getHost()", "[::1]:80"],
      ["url('https://[::1]/').getHost()", "[::1]"],
      ["url('/path').getHost()", ""],
      ["url('https://example.com:80/').getHostname()", "example.com"],
      ["url('https://127.0.0.1:80/').getHostname()", "127.0.0.1"],
      ["url('https://[::1]:80/').getHostname()", "::1"],
      ["url('/path').getHostname()", ""],
      ["url('https://example.com:80/').getPort()", "80"],
      ["url('https://example.com/').getPort()", ""],
      ["url('/path').getPort()", ""],
      ["url('https://example.com/path').getEscapedPath()", "/path"],
      ["url('https://example.com').getEscapedPath()", ""],
      ["url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()", { k1: ["a"], k2: ["b", "c"] }],
      [
        "url('https://example.com/path?key with spaces=value with spaces').getQuery()",
        { "key with spaces": ["value with spaces"] },
      ],
      ["url('https://example.com/path?').getQuery()", {}],
      ["url('https://example.com/path').getQuery()", {}],
    ];
    for (const [expr, want] of cases) expect(run(expr), expr).toEqual(want);
  });

  it("follows Go's net/url: escapes, fragments, userinfo and errors", () => {
    expect(run("url('https://user:pass@example.com:8443/a%2Fb?x=1+2&y=%41#frag').getEscapedPath()")).toBe(
      "/a%2Fb",
    );
    expect(run("url('https://example.com/a?x=1+2&y=%41&z;=3#frag').getQuery()")).toEqual({
      x: ["1 2"],
      y: ["A"],
    });
    expect(run("url('HTTPS://Example.com/').getScheme()")).toBe("https");
    expect(run("url('https://example.com/caf\u00e9').getEscapedPath()")).toBe("/caf%C3%A9");
    expect(run("url('https://example.com/a!b(c)').getEscapedPath()")).toBe("/a!b(c)");
    expect(run("isURL('mailto:someone@example.com')")).toBe(true);
    expect(run("isURL('')")).toBe(false);
    expect(run("isURL('https://exa mple.com/')")).toBe(false);
    expect(run("isURL('https://example.com/%zz')")).toBe(false);
    expect(() => run("url('https://a:b:c/')")).toThrow(
      'URL parse error during conversion from string: parse "https://a:b:c/": invalid port ":c" after host',
    );
    expect(() => run("url('../relative-path')")).toThrow('parse "../relative-path": invalid URI for request');
    expect(run("url('https://example.com/') == url('https://example.com/')")).toBe(true);
  });
});
