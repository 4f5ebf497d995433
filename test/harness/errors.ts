import { PlatformError } from "@platform/core";
import { expect } from "vitest";

/** Runs `fn` and returns the PlatformError it throws; fails the test if it throws nothing or something else. */
export function thrownPlatformError(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error("expected a PlatformError, but nothing was thrown");
}
