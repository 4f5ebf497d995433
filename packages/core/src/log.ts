/** Replaces registered secrets (and their encoded forms) in any text before it is written. */
export class Masker {
  private readonly secrets = new Set<string>();
  private readonly listeners: Array<(secret: string) => void> = [];

  /** Registers a secret the moment it exists; also masks its base64 and URL-encoded forms. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    for (const form of encodedForms(secret)) {
      if (form.length >= 4 && !this.secrets.has(form)) {
        this.secrets.add(form);
        for (const l of this.listeners) l(form);
      }
    }
  }

  /** Called for every newly registered form (the action runtime forwards them to `::add-mask::`). */
  onAdd(listener: (secret: string) => void): void {
    this.listeners.push(listener);
    for (const s of this.secrets) listener(s);
  }

  mask(text: string): string {
    if (this.secrets.size === 0) return text;
    let out = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
    return out;
  }
}

function encodedForms(secret: string): string[] {
  const b64 = Buffer.from(secret, "utf8").toString("base64");
  const forms = [
    secret,
    b64,
    b64.replace(/=+$/, ""),
    Buffer.from(secret).toString("base64url"),
    encodeURIComponent(secret),
  ];
  // A secret embedded in a longer base64 stream is encoded at one of three alignments; the
  // stable middle of each shifted encoding is what can appear in such a stream. At alignment 0
  // that is the whole 3-byte groups: the last partial group mixes in the bytes that follow.
  const whole = b64.slice(0, Math.floor(Buffer.byteLength(secret, "utf8") / 3) * 4);
  if (whole.length >= 8) forms.push(whole);
  for (const pad of ["a", "ab"]) {
    const shifted = Buffer.from(pad + secret, "utf8").toString("base64");
    const skip = Math.ceil((pad.length * 4) / 3) + 1;
    const core = shifted.slice(skip, shifted.length - 4);
    if (core.length >= 8) forms.push(core);
  }
  return forms;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogSink {
  write(level: LogLevel, line: string): void;
}

/** A logger that masks before writing; domain code receives one and never writes to stdout itself. */
export interface Logger {
  readonly masker: Masker;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Registers a secret with the masker; returns it for convenience. */
  secret<T extends string | undefined>(value: T): T;
}

export function createLogger(sink: LogSink, masker: Masker = new Masker()): Logger {
  const emit = (level: LogLevel) => (msg: string) => sink.write(level, masker.mask(msg));
  return {
    masker,
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    secret(value) {
      masker.add(value);
      return value;
    },
  };
}

/** Writes info to stdout and warnings/errors to stderr; debug only when `debug` is set. */
export function consoleSink(
  opts: { debug?: boolean; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {},
): LogSink {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  return {
    write(level, line) {
      if (level === "debug" && !opts.debug) return;
      (level === "info" || level === "debug" ? out : err).write(
        `${level === "info" ? "" : `${level}: `}${line}\n`,
      );
    },
  };
}

/** A logger that records lines (tests, and callers that render logs later). */
export function memoryLogger(masker?: Masker): Logger & { lines: Array<{ level: LogLevel; line: string }> } {
  const lines: Array<{ level: LogLevel; line: string }> = [];
  const logger = createLogger({ write: (level, line) => lines.push({ level, line }) }, masker);
  return Object.assign(logger, { lines });
}
