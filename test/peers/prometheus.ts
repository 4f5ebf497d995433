// A real Prometheus for integration tests: promtool backfills OpenMetrics into TSDB blocks, and the
// server runs on 127.0.0.1 with a free port over those blocks, stopped at the end. Installed by
// test/peers/prometheus.mjs (Debian's package, unpacked into .peers/).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startServer } from "../harness/server-process.ts";
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
  const server = await startServer({
    workDir: dir,
    name: "prometheus",
    command: (port) => ({
      bin: peer.prometheus,
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Backfilled samples are hours old; keep them whatever their age.
        "--storage.tsdb.retention.time=100y",
        "--log.level=warn",
      ],
    }),
    ready: async (port) =>
      (await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok,
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    dataDir: data,
    stop: server.stop,
  };
}
