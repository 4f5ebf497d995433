import { z } from "zod";

// platform.yaml `fleet`: where each Fleet member's manifests live in the config repo, so the
// cluster-upgrade plan can check every member before an update run starts. A member is named as
// Fleet names it (the member resource) or by its AKS cluster's name; checks that span members
// (a name listed twice) are refinements with a path, so their errors carry file:line:column.

const memberName = z
  .string()
  .regex(
    /^[a-zA-Z0-9]([-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/,
    "must be a Fleet member or AKS cluster name (letters, digits, - and _, at most 63)",
  );
const repoPath = z
  .string()
  .min(1, "must not be empty")
  .refine((p) => !/^([a-zA-Z]:)?[\\/]/.test(p), "must be relative to the config repo, not absolute");

const fleetMember = z.strictObject({
  /** The Fleet member's name, or its AKS cluster's name. */
  name: memberName,
  /** Config-repo paths (files, directories, kustomize dirs, Helm charts) rendered for this member. */
  path: z.union([repoPath, z.array(repoPath).min(1, "must list at least one path")]),
});

/** The `fleet` section of platform.yaml. */
export const FleetConfigSchema = z
  .strictObject({ members: z.array(fleetMember).default(() => []) })
  .superRefine((fleet, ctx) => {
    const seen = new Set<string>();
    fleet.members.forEach((m, i) => {
      const k = m.name.toLowerCase();
      if (seen.has(k))
        ctx.addIssue({
          code: "custom",
          path: ["members", i, "name"],
          message: `member ${m.name} is listed twice`,
        });
      seen.add(k);
    });
  });

/** The `fleet` settings as parsed. */
export type FleetConfig = z.output<typeof FleetConfigSchema>;
