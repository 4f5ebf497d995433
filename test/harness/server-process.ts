// Starting a real server binary (a registry, Prometheus…) for a test: on a free loopback port, with its
// output kept for error messages, polled until it answers, and retried on a fresh port when it does not
// come up (another process can take a probed port before the server binds it).
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** The tail of its stdout and stderr. */
  output: () => string;
  stop: () => Promise<void>;
}

export interface StartServerOptions {
  /** Name in errors ("registry", "prometheus"). */
  name: string;
  /** The command line for a port (write config files here if the port goes into them). */
  command: (port: number) => Promise<{ bin: string; args: string[] }> | { bin: string; args: string[] };
  /** Resolves true once the server answers (one probe; it is repeated until the deadline). */
  ready: (port: number) => Promise<boolean>;
  address?: string;
  timeoutMs?: number;
  attempts?: number;
  /** A folder of the server's (config, data) removed when it stops or when it fails to start. */
  workDir?: string;
}

/** A port nothing listens on right now. */
export async function freePort(address = "127.0.0.1"): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, address, r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the server and waits until `ready`; throws with its output when it exits or never answers. */
export async function startServer(opts: StartServerOptions): Promise<ServerProcess> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let lastErr: unknown;
  for (let attempt = 0; attempt < (opts.attempts ?? 3); attempt++) {
    const port = await freePort(opts.address);
    const { bin, args } = await opts.command(port);
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (c: Buffer) => {
      output += c.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${opts.name} exited with ${child.exitCode}: ${output}`);
        if (await opts.ready(port).catch(() => false)) break;
        if (Date.now() > deadline)
          throw new Error(`${opts.name} did not answer within ${timeoutMs / 1000} s: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const stop = async () => {
        await stopChild(child);
        await removeWorkDir(opts.workDir);
      };
      return { child, port, output: () => output, stop };
    } catch (err) {
      lastErr = err;
      await stopChild(child);
    }
  }
  await removeWorkDir(opts.workDir);
  throw lastErr;
}

async function removeWorkDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
