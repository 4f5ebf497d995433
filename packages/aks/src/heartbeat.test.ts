import { memoryLogger } from "@platform/core";
import { afterEach, expect, it, vi } from "vitest";
import { elapsed, heartbeat } from "./heartbeat.ts";

afterEach(() => {
  vi.useRealTimers();
});

it("elapsed prints seconds, then minutes and seconds, then hours and minutes", () => {
  expect([0, 45_900, 125_000, 3_600_000 + 3 * 60_000 + 59_000].map(elapsed)).toEqual([
    "0s",
    "45s",
    "2m 05s",
    "1h 03m",
  ]);
});

it("heartbeat logs the elapsed time on every tick until it is stopped", () => {
  vi.useFakeTimers();
  const log = memoryLogger();
  const stop = heartbeat(log, "pool:apps@1.32.4", 30_000);
  vi.advanceTimersByTime(95_000);
  stop();
  vi.advanceTimersByTime(120_000);
  expect(log.lines.map((l) => l.line)).toEqual([
    "pool:apps@1.32.4: still running after 30s",
    "pool:apps@1.32.4: still running after 1m 00s",
    "pool:apps@1.32.4: still running after 1m 30s",
  ]);
});
