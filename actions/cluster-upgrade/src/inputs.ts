import { booleanInput, enumInput, listInput, optionalString, summaryInput } from "@platform/github";
import { z } from "zod";

/** A number above 0; `what` completes "must be …" (the input's name is prefixed by the inputs reader). */
const positive = (fallback: number, what: string) =>
  z.preprocess(
    (v) => (v === undefined || v === "" ? fallback : Number(v)),
    z.number({ error: `must be ${what}` }).positive(`must be ${what}`),
  );

/** An optional http(s) URL (checked before any sign-in). */
const endpoint = () =>
  optionalString().refine((v) => v === undefined || /^https?:\/\/[^/\s]+/.test(v), {
    error: "must be an https:// URL such as https://management.azure.com",
  });

// Fleet's own spelling (PascalCase), matched case-insensitively.
const UPGRADE_TYPES = ["Full", "NodeImageOnly", "ControlPlaneOnly"] as const;

/** The action's inputs, keyed exactly as in action.yml (a contract test keeps the two in step). */
export const inputs = z.object({
  "subscription-id": optionalString(),
  subscription: optionalString(),
  "resource-group": optionalString(),
  cluster: optionalString(),
  fleet: optionalString(),
  "target-version": z.preprocess(
    (v) => (v === "" || v === undefined ? "latest-patch" : v),
    z
      .string()
      .trim()
      .regex(/^(latest-patch|latest-minor|\d+\.\d+\.\d+)$/, {
        error: "must be latest-patch, latest-minor or an exact version such as 1.31.2",
      }),
  ),
  mode: enumInput(["plan", "apply"], "plan"),
  "node-pools": listInput({ comma: true }),
  "config-repo-path": listInput({ comma: true }),
  config: optionalString(),
  plan: optionalString(),
  "plan-file": z.preprocess(
    (v) => (v === "" || v === undefined ? "cluster-upgrade-plan.json" : v),
    z.string().trim(),
  ),
  state: z.preprocess(
    (v) => (v === "" || v === undefined ? "cluster-upgrade-state.json" : v),
    z.string().trim(),
  ),
  force: booleanInput(false),
  "override-deprecated-apis": booleanInput(false),
  "fleet-upgrade-type": z.preprocess(
    (v) =>
      UPGRADE_TYPES.find(
        (t) =>
          t.toLowerCase() ===
          String(v || "Full")
            .trim()
            .toLowerCase(),
      ) ?? v,
    z.enum(UPGRADE_TYPES, { error: `must be one of: ${UPGRADE_TYPES.join(", ")}` }),
  ),
  "fleet-stages": optionalString(),
  "update-strategy": optionalString(),
  concurrency: positive(8, "a number above 0 (members planned at once; default 8)"),
  "poll-interval": positive(30, "a number of seconds above 0 (default 30)"),
  "arm-endpoint": endpoint(),
  "authority-host": endpoint(),
  "tenant-id": optionalString(),
  "client-id": optionalString(),
  summary: summaryInput(),
});
