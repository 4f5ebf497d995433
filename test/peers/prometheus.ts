// A real Prometheus for integration tests: promtool backfills OpenMetrics into TSDB blocks, and the
// server runs on 127.0.0.1 with a free port over those blocks, stopped at the end. Installed by
// test/peers/prometheus.mjs (Debian's package, unpacked into .peers/).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./index.ts";

export interface PrometheusPeer {
  ok: boolean;
  reason: string;
  prometheus: string;
  promtool: string;
}

/**
 * The prometheus and promtool binaries. Locally a missing install skips the suite with a visible
 * reason; with CI=true it is an error, so CI never passes on a skipped suite.
 */
export function requirePrometheus(): PrometheusPeer {
  const prometheus = join(REPO_ROOT, ".peers", "bin", "prometheus");
  const promtool = join(REPO_ROOT, ".peers", "bin", "promtool");
  const ok = existsSync(prometheus) && existsSync(promtool);
  const reason = ok ? "" : "prometheus/promtool not installed — run `node test/peers/prometheus.mjs`";
  if (!ok && process.env.CI === "true") throw new Error(`${reason} (CI=true: missing peers are an error)`);
  if (!ok) console.warn(`SKIP: ${reason}`);
  return { ok, reason, prometheus, promtool };
}

export interface RunningPrometheus {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Backfills `openMetrics` with promtool and starts Prometheus over the blocks; resolves once it is ready. */
export async function startPrometheus(peer: PrometheusPeer, openMetrics: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "prom-itg-"));
  const input = join(dir, "input.openmetrics");
  const data = join(dir, "data");
  await writeFile(input, openMetrics);
  await promisify(execFile)(peer.promtool, ["tsdb", "create-blocks-from", "openmetrics", input, data], {
    timeout: 120_000,
  });
  // No scrape jobs: the server only serves the backfilled blocks.
  const config = join(dir, "prometheus.yml");
  await writeFile(config, "global:\n  scrape_interval: 15s\n");
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      peer.prometheus,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Backfilled samples are hours old; keep them whatever their age.
        "--storage.tsdb.retention.time=100y",
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => stderr);
      return {
        url,
        dataDir: data,
        stop: async () => {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastErr = err;
      await stopChild(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastErr;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr()}`);
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`prometheus did not become ready within 60 s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
