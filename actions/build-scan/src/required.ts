import { PlatformError } from "@platform/core/errors";

/**
 * A step needs `image` (build, push and scan) or `scan-report` (gate a report built elsewhere). main.ts checks
 * this before the input schema and the run's code load; run.ts throws the same error.
 */
export function noImageOrReport(): PlatformError {
  return new PlatformError(
    "INPUT_MISSING",
    "image is required (or scan-report, to gate a report without building)",
    {
      input: "image",
      hint: "Set image to the quarantine repository to build, push and scan, or set scan-report to a Trivy JSON report to gate it alone.",
    },
  );
}
