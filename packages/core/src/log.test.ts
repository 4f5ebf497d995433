import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { consoleSink, createLogger, Masker, memoryLogger } from "./log.ts";

const SECRET = "s3cr3t-T0ken/with+odd=chars?&";

/** Deterministic arbitrary bytes, so failures reproduce. */
function bytes(n: number, seed: number): Buffer {
  return createHash("sha256").update(String(seed)).digest().subarray(0, n);
}

describe("Masker", () => {
  it("masks every occurrence of the secret itself", () => {
    const m = new Masker();
    m.add(SECRET);
    expect(m.mask(`token=${SECRET} again ${SECRET}.`)).toBe("token=*** again ***.");
  });

  it("leaves text alone when nothing is registered or nothing matches", () => {
    const m = new Masker();
    expect(m.mask("nothing to hide")).toBe("nothing to hide");
    m.add(SECRET);
    expect(m.mask("nothing to hide")).toBe("nothing to hide");
  });

  it.each([
    ["base64", (s: string) => Buffer.from(s).toString("base64")],
    ["base64 without padding", (s: string) => Buffer.from(s).toString("base64").replace(/=+$/, "")],
    ["base64url", (s: string) => Buffer.from(s).toString("base64url")],
    ["URL-encoded", (s: string) => encodeURIComponent(s)],
  ])("masks the %s form", (_, encode) => {
    const m = new Masker();
    m.add(SECRET);
    const encoded = encode(SECRET);
    expect(encoded).not.toBe(SECRET); // the form under test really differs from the raw secret
    const masked = m.mask(`before ${encoded} after`);
    expect(masked).toBe("before *** after");
  });

  it("masks a padded base64 form for each secret length mod 3", () => {
    for (const secret of ["abcdefghij", "abcdefghijk", "abcdefghijkl"]) {
      const m = new Masker();
      m.add(secret);
      const b64 = Buffer.from(secret).toString("base64");
      expect(m.mask(`x ${b64} y`), secret).toBe("x *** y");
    }
  });

  // A secret inside a longer payload (a JSON body, `user:token` basic auth) is base64-encoded at
  // one of three byte alignments; each must lose (nearly) all the characters that encode only
  // secret bits. At most one base64 group (3 bytes of the secret) may remain at either end.
  describe("a secret embedded in a longer base64 stream", () => {
    const secrets = ["0123456789", "0123456789a", "0123456789ab", "ghp_R4nd0mL00kingT0kenValue0123456789"];
    for (const secret of secrets) {
      for (const align of [0, 1, 2]) {
        it(`is masked at alignment ${align} (secret length ${secret.length})`, () => {
          const m = new Masker();
          m.add(secret);
          const prefix = bytes(6 + align, secret.length + align);
          const suffix = bytes(7, 99 + align);
          const stream = Buffer.concat([prefix, Buffer.from(secret), suffix]).toString("base64");
          const masked = m.mask(stream);

          const parts = masked.split("***");
          expect(parts.length, masked).toBeGreaterThanOrEqual(2);
          const removedStart = parts[0]!.length;
          const removedEnd = stream.length - parts.at(-1)!.length;
          expect(stream.startsWith(parts[0]!)).toBe(true);
          expect(stream.endsWith(parts.at(-1)!)).toBe(true);

          // Base64 characters whose 6 bits all come from the secret.
          const startBit = prefix.length * 8;
          const endBit = (prefix.length + secret.length) * 8;
          const firstPure = Math.ceil(startBit / 6);
          const endPure = Math.floor(endBit / 6);
          expect(removedStart, "secret characters left before the mask").toBeLessThanOrEqual(firstPure + 4);
          expect(removedEnd, "secret characters left after the mask").toBeGreaterThanOrEqual(endPure - 4);
          // The mask never eats bytes that are not the secret's.
          expect(removedStart).toBeGreaterThanOrEqual(Math.floor(startBit / 6));
          expect(removedEnd).toBeLessThanOrEqual(Math.ceil(endBit / 6));
        });
      }
    }

    it("hides a token inside HTTP basic auth (x-access-token:<token>)", () => {
      const token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
      const m = new Masker();
      m.add(token);
      const header = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
      const masked = m.mask(header);
      expect(masked).toContain("***");
      // What is left must not decode to any 4 consecutive characters of the token.
      const left = masked.slice("Authorization: Basic ".length).split("***");
      for (const piece of left) {
        const decoded = Buffer.from(piece, "base64").toString("latin1");
        for (let i = 0; i + 8 <= token.length; i++) expect(decoded).not.toContain(token.slice(i, i + 8));
      }
    });
  });

  it("replaces a longer secret whole when a shorter one is inside it", () => {
    const m = new Masker();
    m.add("abcd");
    m.add("abcdefgh");
    expect(m.mask("[abcdefgh] [abcd]")).toBe("[***] [***]");
  });

  it("ignores undefined, empty and short (< 4 characters) secrets", () => {
    const m = new Masker();
    const seen: string[] = [];
    m.onAdd((s) => seen.push(s));
    m.add(undefined);
    m.add("");
    m.add("abc");
    expect(seen).toEqual([]);
    expect(m.mask("abc abcabc")).toBe("abc abcabc");
    m.add("abcd");
    expect(m.mask("abcd")).toBe("***");
  });

  describe("onAdd", () => {
    it("reports each new form once, including the encoded forms", () => {
      const m = new Masker();
      const seen: string[] = [];
      m.onAdd((s) => seen.push(s));
      m.add(SECRET);
      m.add(SECRET);
      expect(seen).toContain(SECRET);
      expect(seen).toContain(Buffer.from(SECRET).toString("base64"));
      expect(seen).toContain(encodeURIComponent(SECRET));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.every((s) => s.length >= 4)).toBe(true);
    });

    it("replays forms registered before the listener was attached", () => {
      const m = new Masker();
      m.add(SECRET);
      const early: string[] = [];
      m.onAdd((s) => early.push(s));
      expect(early).toContain(SECRET);
      const late: string[] = [];
      m.onAdd((s) => late.push(s));
      expect(late).toEqual(early);
    });
  });
});

describe("memoryLogger / createLogger", () => {
  it("records every level, masked", () => {
    const log = memoryLogger();
    log.secret("hunter2-password");
    log.debug("d hunter2-password");
    log.info("i");
    log.warn("w");
    log.error(`e ${Buffer.from("hunter2-password").toString("base64")}`);
    expect(log.lines).toEqual([
      { level: "debug", line: "d ***" },
      { level: "info", line: "i" },
      { level: "warn", line: "w" },
      { level: "error", line: "e ***" },
    ]);
  });

  it("secret() returns its argument and accepts undefined", () => {
    const log = memoryLogger();
    expect(log.secret("value-1234")).toBe("value-1234");
    expect(log.secret(undefined)).toBeUndefined();
    log.info("value-1234");
    expect(log.lines[0]!.line).toBe("***");
  });

  it("shares a masker passed in, so secrets registered elsewhere are masked", () => {
    const masker = new Masker();
    const log = memoryLogger(masker);
    expect(log.masker).toBe(masker);
    masker.add("registered-elsewhere");
    log.info("x registered-elsewhere");
    expect(log.lines[0]!.line).toBe("x ***");
  });

  it("masks before the sink sees the line", () => {
    const written: string[] = [];
    const log = createLogger({ write: (_, line) => written.push(line) });
    log.secret("tok-abcdef");
    log.info("Bearer tok-abcdef");
    expect(written).toEqual(["Bearer ***"]);
  });
});

describe("consoleSink", () => {
  function streams() {
    const out = new PassThrough();
    const err = new PassThrough();
    const read = (s: PassThrough) => String(s.read() ?? "");
    return { out, err, stdout: () => read(out), stderr: () => read(err) };
  }

  it("writes info to stdout and warnings/errors to stderr with a prefix; hides debug by default", () => {
    const s = streams();
    const log = createLogger(consoleSink({ stdout: s.out, stderr: s.err }));
    log.debug("dbg");
    log.info("hello");
    log.warn("careful");
    log.error("broken");
    expect(s.stdout()).toBe("hello\n");
    expect(s.stderr()).toBe("warn: careful\nerror: broken\n");
  });

  it("writes debug to stdout when asked", () => {
    const s = streams();
    const log = createLogger(consoleSink({ debug: true, stdout: s.out, stderr: s.err }));
    log.debug("dbg");
    expect(s.stdout()).toBe("debug: dbg\n");
  });
});
