import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);
const all = (cases: Array<[string, unknown]>) => {
  for (const [expr, want] of cases) expect(run(expr), expr).toEqual(want);
};

describe("Kubernetes IP library", () => {
  it("runs the library's doc-comment examples", () => {
    all([
      ["isIP('127.0.0.1')", true],
      ["isIP('::1')", true],
      ["isIP('127.0.0.256')", false],
      ["isIP(':::1')", false],
      ["ip.isCanonical('127.0.0.1')", true],
      ["ip.isCanonical('2001:db8::abcd')", true],
      ["ip.isCanonical('2001:DB8::ABCD')", false],
      ["ip.isCanonical('2001:db8::0:0:0:abcd')", false],
      ["ip('127.0.0.1').family()", 4n],
      ["ip('::1').family()", 6n],
      ["ip('127.0.0.1').family() == 4", true],
      ["ip('0.0.0.0').isUnspecified()", true],
      ["ip('127.0.0.1').isUnspecified()", false],
      ["ip('::').isUnspecified()", true],
      ["ip('::1').isUnspecified()", false],
      ["ip('127.0.0.1').isLoopback()", true],
      ["ip('192.168.0.1').isLoopback()", false],
      ["ip('::1').isLoopback()", true],
      ["ip('2001:db8::abcd').isLoopback()", false],
      ["ip('224.0.0.1').isLinkLocalMulticast()", true],
      ["ip('224.0.1.1').isLinkLocalMulticast()", false],
      ["ip('ff02::1').isLinkLocalMulticast()", true],
      ["ip('fd00::1').isLinkLocalMulticast()", false],
      ["ip('169.254.169.254').isLinkLocalUnicast()", true],
      ["ip('192.168.0.1').isLinkLocalUnicast()", false],
      ["ip('fe80::1').isLinkLocalUnicast()", true],
      ["ip('fd80::1').isLinkLocalUnicast()", false],
      ["ip('192.168.0.1').isGlobalUnicast()", true],
      ["ip('255.255.255.255').isGlobalUnicast()", false],
      ["ip('2001:db8::abcd').isGlobalUnicast()", true],
      ["ip('ff00::1').isGlobalUnicast()", false],
      ["string(ip('192.168.0.1'))", "192.168.0.1"],
      ["type(ip('192.168.0.1')) == net.IP", true],
    ]);
  });

  it("reports the apiserver's parse errors (ip_test.go)", () => {
    expect(() => run(`ip("192.168.0.1.0")`)).toThrow(
      'IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long',
    );
    expect(() => run(`ip("2001:db8:::68")`)).toThrow(
      'IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")',
    );
    expect(() => run(`ip.isCanonical("127.0.0.1.0")`)).toThrow(/IPv4 address too long/);
    expect(() => run(`isIP(cidr("192.168.0.0/24"))`)).toThrow(/no matching overload/);
  });

  it("rejects what the apiserver rejects: leading zeros, zones, IPv4-mapped IPv6", () => {
    expect(run("isIP('010.0.0.1')")).toBe(false);
    expect(() => run("ip('fe80::1%eth0')")).toThrow(
      'IP address "fe80::1%eth0" with zone value is not allowed',
    );
    expect(() => run("ip('::ffff:1.2.3.4')")).toThrow(
      'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed',
    );
    expect(run("isIP('::ffff:102:304')")).toBe(false);
    expect(run("isIP('1:2:3:4:5:6:7::8')")).toBe(false);
    expect(run("isIP('1:2:3:4:5:6:1.2.3.4')")).toBe(true);
    expect(run("isIP('12345::1')")).toBe(false);
    expect(run("isIP('')")).toBe(false);
  });

  it("prints canonical RFC 5952 forms and compares addresses by value", () => {
    all([
      ["string(ip('2001:0db8:0000:0000:0000:0000:0000:0001'))", "2001:db8::1"],
      ["string(ip('1:0:0:2:0:0:0:3'))", "1:0:0:2::3"],
      ["string(ip('1:0:2:0:3:0:4:0'))", "1:0:2:0:3:0:4:0"],
      ["string(ip('1::2:3:4:5:6:7'))", "1:0:2:3:4:5:6:7"],
      ["string(ip('::1.2.3.4'))", "::102:304"],
      ["ip('2001:DB8::1') == ip('2001:db8::1')", true],
      ["ip('10.0.0.1') != ip('10.0.0.2')", true],
    ]);
  });
});

describe("Kubernetes CIDR library", () => {
  it("runs the library's doc-comment examples (with the 1.33 containsCIDR fix)", () => {
    all([
      ["isCIDR('192.168.0.0/16')", true],
      ["isCIDR('::1/128')", true],
      ["isCIDR('192.168.0.0/33')", false],
      ["isCIDR('::1/129')", false],
      ["cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", true],
      ["cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", false],
      ["cidr('192.168.0.0/24').containsIP('192.168.0.1')", true],
      ["cidr('192.168.0.0/24').containsIP('192.168.1.1')", false],
      ["cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))", true],
      ["cidr('192.168.1.0/24').containsCIDR(cidr('192.168.2.0/24'))", false],
      ["cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", true],
      ["cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')", false],
      ["cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", true],
      ["cidr('192.168.0.1/24').ip().family()", 4n],
      ["cidr('::1/128').ip() == ip('::1')", true],
      ["cidr('::1/128').ip().family()", 6n],
      ["cidr('192.168.0.0/24').masked() == cidr('192.168.0.0/24')", true],
      ["cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", true],
      ["cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()", true],
      ["cidr('192.168.0.1/24') == cidr('192.168.0.1/24').masked()", false],
      ["cidr('192.168.0.0/16').prefixLength()", 16n],
      ["cidr('::1/128').prefixLength()", 128n],
    ]);
  });

  it("runs the apiserver's cidr_test.go cases", () => {
    all([
      ["cidr(dyn('192.168.0.0/24')) == cidr('192.168.0.0/24')", true],
      ["cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", true],
      ["cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))", false],
      ["cidr('2001:db8::/32').containsIP(ip('2001:db8::1'))", true],
      ["cidr('2001:db8::/32').containsIP(ip('2001:dc8::1'))", false],
      ["cidr('2001:db8::/32').containsCIDR('2001:db8::/33')", true],
      ["cidr('2001:db8::/32').containsCIDR('2001:db8::/31')", false],
      ["cidr('2001:db8:1::/32').masked() == cidr('2001:db8::/32')", true],
      ["string(cidr('192.168.0.0/24'))", "192.168.0.0/24"],
      ["type(cidr('192.168.0.0/24')) == net.CIDR", true],
      ["cidr('10.0.0.0/8').containsIP('2001:db8::1')", false],
      ["cidr('0.0.0.0/0').containsIP('255.255.255.255')", true],
    ]);
    const prefix = "network address parse error during conversion from string: ";
    expect(() => run(`cidr("192.168.0.0/")`)).toThrow(
      `${prefix}${prefix}netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""`,
    );
    expect(() => run(`cidr("2001:db8::/")`)).toThrow(
      `${prefix}${prefix}netip.ParsePrefix("2001:db8::/"): bad bits after slash: ""`,
    );
    expect(() => run(`cidr(192168)`)).toThrow(/no matching overload/);
    expect(run("isCIDR('10.0.0.0/08')")).toBe(false);
    expect(run("isCIDR('::ffff:1.2.3.4/120')")).toBe(false);
  });
});
