import type { Logger } from "@platform/core";

/** "45s", "2m 05s", "1h 03m": elapsed time for a progress line. */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Logs "<label>: still running after <elapsed>" every `everyMs` until stopped: an AKS upgrade step polls
 * for up to an hour, and a silent terminal or job log looks hung.
 */
export function heartbeat(log: Logger, label: string, everyMs: number, now = Date.now): () => void {
  const started = now();
  const timer = setInterval(
    () => log.info(`${label}: still running after ${elapsed(now() - started)}`),
    everyMs,
  );
  // A heartbeat never keeps the process alive on its own.
  timer.unref();
  return () => clearInterval(timer);
}
