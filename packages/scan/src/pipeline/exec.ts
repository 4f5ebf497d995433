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
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    // Our own timer (spawn's `timeout` keeps a timer alive after ENOENT, holding the process open).
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs) : undefined;
    let stdout = "";
    let stderr = "";
    let settled = false;
    const done = (r: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      done({ code: err.code === "ENOENT" ? 127 : 1, stdout, stderr: stderr || err.message }),
    );
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
  });

/** The last lines of a tool's stderr, for an error message. */
export function tail(text: string, lines = 12): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
