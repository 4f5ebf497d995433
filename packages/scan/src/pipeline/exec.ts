import { spawn } from "node:child_process";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with argv (never a shell string) and collects its output; never rejects on exit codes. */
export type Exec = (
  cmd: string,
  args: readonly string[],
  opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
) => Promise<ExecResult>;

/** The real Exec: child_process.spawn without a shell; ENOENT becomes exit code 127. */
export const spawnExec: Exec = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ code: err.code === "ENOENT" ? 127 : 1, stdout, stderr: stderr || err.message }),
    );
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

/** The last lines of a tool's stderr, for an error message. */
export function tail(text: string, lines = 12): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
