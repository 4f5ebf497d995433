// Kubernetes URL library (k8s.io/apiserver/pkg/cel/library/urls.go) over a port of the parts of Go's net/url
// it uses: url() and isURL() accept what url.ParseRequestURI accepts (an absolute URI or an absolute path),
// and the accessors read the result of url.Parse (which, unlike ParseRequestURI, splits off the fragment).
import type { Environment } from "@marcbachmann/cel-js";
import { type CostMeter, stringCost } from "./cost.ts";
import { type CelValue, celError } from "./values.ts";

type Encoding = "path" | "host" | "zone" | "userPassword" | "queryComponent" | "fragment";

class UrlError extends Error {}

const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

function unhex(c: string): number {
  return Number.parseInt(c, 16);
}

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** net/url shouldEscape for one byte. */
function shouldEscape(c: number, mode: Encoding): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === "host" || mode === "zone") && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ("-_.~".includes(ch)) return false;
  if ("$&+,/:;=?@".includes(ch)) {
    switch (mode) {
      case "path":
        return ch === "?";
      case "userPassword":
        return ch === "@" || ch === "/" || ch === "?" || ch === ":";
      case "queryComponent":
        return true;
      case "fragment":
        return false;
      default:
        return true;
    }
  }
  if (mode === "fragment" && "!()*".includes(ch)) return false;
  return true;
}

/** net/url unescape: validates percent escapes and decodes them (and `+` in query components). */
function urlUnescape(s: string, mode: Encoding): string {
  let n = 0;
  let hasPlus = false;
  for (let i = 0; i < s.length; ) {
    const ch = s[i]!;
    if (ch === "%") {
      n++;
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        let bad = s.slice(i);
        if (bad.length > 3) bad = bad.slice(0, 3);
        throw new UrlError(`invalid URL escape ${JSON.stringify(bad)}`);
      }
      if (mode === "host" && unhex(s[i + 1]!) < 8 && s.slice(i, i + 3) !== "%25") {
        throw new UrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      }
      if (mode === "zone") {
        const v = unhex(s[i + 1]!) * 16 + unhex(s[i + 2]!);
        if (s.slice(i, i + 3) !== "%25" && v !== 0x20 && shouldEscape(v, "host")) {
          throw new UrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
        }
      }
      i += 3;
    } else if (ch === "+") {
      hasPlus = mode === "queryComponent";
      i++;
    } else {
      const c = s.charCodeAt(i);
      if ((mode === "host" || mode === "zone") && c < 0x80 && shouldEscape(c, mode)) {
        throw new UrlError(`invalid character ${JSON.stringify(ch)} in host name`);
      }
      i++;
    }
  }
  if (n === 0 && !hasPlus) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = s[i]!;
    if (ch === "%") {
      bytes.push(unhex(s[i + 1]!) * 16 + unhex(s[i + 2]!));
      i += 3;
    } else if (ch === "+" && mode === "queryComponent") {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i)!;
      const chunk = String.fromCodePoint(cp);
      for (const b of encoder.encode(chunk)) bytes.push(b);
      i += chunk.length;
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** net/url escape for a path. */
function escapePath(s: string): string {
  let out = "";
  for (const b of encoder.encode(s)) {
    if (shouldEscape(b, "path")) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    else out += String.fromCharCode(b);
  }
  // Non-ASCII bytes are always escaped, so `out` is pure ASCII.
  return out;
}

function validEncoded(s: string, mode: Encoding): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if ("!$&'()*+,;=:@[]%".includes(ch)) continue;
    const c = s.charCodeAt(i);
    if (c >= 0x80 || shouldEscape(c, mode)) return false;
  }
  return true;
}

function validOptionalPort(port: string): boolean {
  if (port === "") return true;
  if (port[0] !== ":") return false;
  for (let i = 1; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort))
      throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
    const zone = host.slice(0, i).indexOf("%25");
    if (zone >= 0) {
      const host1 = urlUnescape(host.slice(0, zone), "host");
      const host2 = urlUnescape(host.slice(zone, i), "zone");
      const host3 = urlUnescape(host.slice(i), "host");
      return host1 + host2 + host3;
    }
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) {
        throw new UrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
      }
    }
  }
  return urlUnescape(host, "host");
}

function validUserinfo(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (isAlnum(c)) continue;
    if ("-._:~!$&'()*+,;=%@".includes(ch)) continue;
    return false;
  }
  return true;
}

function parseAuthority(authority: string): string {
  const i = authority.lastIndexOf("@");
  const host = parseHost(i < 0 ? authority : authority.slice(i + 1));
  if (i >= 0) {
    const userinfo = authority.slice(0, i);
    if (!validUserinfo(userinfo)) throw new UrlError("net/url: invalid userinfo");
    const colon = userinfo.indexOf(":");
    if (colon < 0) urlUnescape(userinfo, "userPassword");
    else {
      urlUnescape(userinfo.slice(0, colon), "userPassword");
      urlUnescape(userinfo.slice(colon + 1), "userPassword");
    }
  }
  return host;
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) continue;
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === 58) {
      if (i === 0) throw new UrlError("missing protocol scheme");
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

/** The parsed parts of a URL the CEL accessors expose. */
export class URLValue implements CelValue {
  readonly celTypeName = "kubernetes.URL";
  scheme = "";
  opaque = "";
  host = "";
  path = "";
  rawPath = "";
  rawQuery = "";
  forceQuery = false;
  fragment = "";
  hasUser = false;
  raw = "";

  hostname(): string {
    return splitHostPort(this.host)[0];
  }

  port(): string {
    return splitHostPort(this.host)[1];
  }

  escapedPath(): string {
    if (this.rawPath !== "" && validEncoded(this.rawPath, "path")) {
      try {
        if (urlUnescape(this.rawPath, "path") === this.path) return this.rawPath;
      } catch {
        // fall through to escaping the decoded path
      }
    }
    if (this.path === "*") return "*";
    return escapePath(this.path);
  }

  /** url.Values from ParseQuery, skipping malformed pairs as URL.Query() does. */
  query(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const part of this.rawQuery.split("&")) {
      if (part === "" || part.includes(";")) continue;
      const eq = part.indexOf("=");
      let key: string;
      let value: string;
      try {
        key = urlUnescape(eq < 0 ? part : part.slice(0, eq), "queryComponent");
        value = urlUnescape(eq < 0 ? "" : part.slice(eq + 1), "queryComponent");
      } catch {
        continue;
      }
      if (!Object.hasOwn(out, key)) out[key] = [];
      out[key]!.push(value);
    }
    return out;
  }

  celEquals(other: unknown): boolean {
    return other instanceof URLValue && other.raw === this.raw;
  }

  toString(): string {
    return this.raw;
  }
}

function splitHostPort(hostPort: string): [string, string] {
  let host = hostPort;
  let port = "";
  const colon = host.lastIndexOf(":");
  if (colon !== -1 && validOptionalPort(host.slice(colon))) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return [host, port];
}

/** net/url's parse(rawURL, viaRequest). */
function parse(rawURL: string, viaRequest: boolean): URLValue {
  for (let i = 0; i < rawURL.length; i++) {
    const c = rawURL.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new UrlError("net/url: invalid control character in URL");
  }
  if (rawURL === "" && viaRequest) throw new UrlError("empty url");
  const u = new URLValue();
  if (rawURL === "*") {
    u.path = "*";
    return u;
  }
  let [scheme, rest] = getScheme(rawURL);
  u.scheme = scheme.toLowerCase();
  if (rest.endsWith("?") && rest.split("?").length === 2) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/")) {
    if (u.scheme !== "") {
      u.opaque = rest;
      return u;
    }
    if (viaRequest) throw new UrlError("invalid URI for request");
    const slash = rest.indexOf("/");
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(":")) throw new UrlError("first path segment in URL cannot contain colon");
  }
  if ((u.scheme !== "" || (!viaRequest && !rest.startsWith("///"))) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    u.hasUser = authority.includes("@");
    u.host = parseAuthority(authority);
  }
  u.path = urlUnescape(rest, "path");
  u.rawPath = escapePath(u.path) === rest ? "" : rest;
  return u;
}

function wrap(op: string, url: string, err: unknown): Error {
  if (err instanceof UrlError) return new UrlError(`${op} ${JSON.stringify(url)}: ${err.message}`);
  return err as Error;
}

/** url.ParseRequestURI; throws with Go's message. */
export function parseRequestURI(raw: string): URLValue {
  try {
    const u = parse(raw, true);
    u.raw = raw;
    return u;
  } catch (err) {
    throw wrap("parse", raw, err);
  }
}

/** url.Parse (fragment split off first). */
export function parseURL(raw: string): URLValue {
  const hash = raw.indexOf("#");
  const base = hash < 0 ? raw : raw.slice(0, hash);
  let u: URLValue;
  try {
    u = parse(base, false);
  } catch (err) {
    throw wrap("parse", base, err);
  }
  if (hash >= 0) {
    try {
      u.fragment = urlUnescape(raw.slice(hash + 1), "fragment");
    } catch (err) {
      throw wrap("parse", raw, err);
    }
  }
  u.raw = raw;
  return u;
}

/** The apiserver's stringToUrl: must pass ParseRequestURI, then is parsed with Parse. */
export function toURL(s: string): URLValue {
  try {
    parseRequestURI(s);
    return parseURL(s);
  } catch (err) {
    if (err instanceof UrlError)
      throw celError(`URL parse error during conversion from string: ${err.message}`);
    throw err;
  }
}

/** Whether url.ParseRequestURI accepts `s`; the error message when it does not. */
export function requestURIError(s: string): string | undefined {
  try {
    parseRequestURI(s);
    return undefined;
  } catch (err) {
    if (err instanceof UrlError) return err.message;
    throw err;
  }
}

/** Registers url(), isURL() and the URL accessors. */
export function registerURLLibrary(env: Environment, meter: CostMeter): void {
  const U = "kubernetes.URL";
  env.registerType(U, { ctor: URLValue, fields: {} });
  env.registerOperator(`${U} == ${U}`, (a: URLValue, b: URLValue) => a.celEquals(b));
  env.registerFunction(`url(string): ${U}`, (s: string) => {
    meter.charge(stringCost(s.length));
    return toURL(s);
  });
  env.registerFunction("isURL(string): bool", (s: string) => {
    meter.charge(stringCost(s.length));
    return requestURIError(s) === undefined;
  });
  env.registerFunction(`${U}.getScheme(): string`, (u: URLValue) => u.scheme);
  env.registerFunction(`${U}.getHost(): string`, (u: URLValue) => u.host);
  env.registerFunction(`${U}.getHostname(): string`, (u: URLValue) => u.hostname());
  env.registerFunction(`${U}.getPort(): string`, (u: URLValue) => u.port());
  env.registerFunction(`${U}.getEscapedPath(): string`, (u: URLValue) => u.escapedPath());
  env.registerFunction(`${U}.getQuery(): map<string, list<string>>`, (u: URLValue) => u.query());
}
