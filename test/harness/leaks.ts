// Secrets never reach a log: what a workflow run shows of an action (stdout without its ::add-mask:: lines,
// stderr, the step summary, the outputs) must not contain any token or key the action handled.
import { expect } from "vitest";
import type { ActionRun } from "./run-action.ts";

/** Everything a run shows in the workflow log, the step summary and its outputs, minus the mask commands. */
export function shownText(run: ActionRun): string {
  return [
    run.stdout.replace(/^::add-mask::.*$/gm, ""),
    run.stderr,
    run.summary,
    ...Object.values(run.outputs),
  ].join("\n");
}

/**
 * The pieces of a secret worth looking for: the value itself and, for a PEM private key, each line of its
 * base64 body (a log that prints the key re-wrapped or in part still leaks it).
 */
function pieces(secret: string): string[] {
  if (!secret.includes("-----BEGIN")) return [secret];
  return secret
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length >= 32 && !l.startsWith("-----"));
}

/** Asserts that none of `secrets` (empty values ignored) shows up anywhere a run shows. */
export function expectNoLeaks(run: ActionRun, secrets: ReadonlyArray<string | undefined>): void {
  const shown = shownText(run);
  const values = secrets.filter((s): s is string => !!s && s.length >= 8);
  const leaked = values.filter((s) => pieces(s).some((p) => shown.includes(p)));
  expect(
    leaked.map((s) => `${s.slice(0, 12)}… (${s.length} chars)`),
    "secrets shown by the run",
  ).toEqual([]);
}
