/** What kind of failure an error is; it decides the CLI exit code and how an action reports it. */
export type ErrorCategory = "verdict" | "usage" | "environment" | "internal";

export interface PlatformErrorOptions {
  /** How to fix it, in one sentence a user can act on. */
  hint?: string;
  /** The action input or CLI option at fault (kebab-case). */
  input?: string;
  file?: string;
  line?: number;
  column?: number;
  category?: ErrorCategory;
  cause?: unknown;
}

/** Every failure we raise on purpose: a stable code to branch on, a message, and a hint. */
export class PlatformError<C extends string = string> extends Error {
  readonly hint?: string;
  readonly input?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly category: ErrorCategory;
  readonly code: C;

  constructor(code: C, message: string, opts: PlatformErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.name = "PlatformError";
    this.hint = opts.hint;
    this.input = opts.input;
    this.file = opts.file;
    this.line = opts.line;
    this.column = opts.column;
    this.category = opts.category ?? "usage";
  }

  /** "file:line:col: message (input x)" followed by the hint, for terminals and logs. */
  describe(): string {
    const where = this.file
      ? `${this.file}${this.line ? `:${this.line}${this.column ? `:${this.column}` : ""}` : ""}: `
      : "";
    const input = this.input ? ` [input: ${this.input}]` : "";
    return `${where}${this.message}${input}${this.hint ? `\n  hint: ${this.hint}` : ""}`;
  }
}

/** Exit codes shared by the CLI and the tests: 0 ok, 1 gate failed, 2 usage/input, 3 environment. */
export const ExitCode = { ok: 0, verdict: 1, usage: 2, environment: 3 } as const;

/** Maps any thrown value to the exit code DESIGN.md fixes. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof PlatformError) {
    switch (err.category) {
      case "verdict":
        return ExitCode.verdict;
      case "usage":
        return ExitCode.usage;
      default:
        return ExitCode.environment;
    }
  }
  return ExitCode.environment;
}

export function isPlatformError(err: unknown, code?: string): err is PlatformError {
  return err instanceof PlatformError && (code === undefined || err.code === code);
}

/** The message of an unknown thrown value, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
