import { resolve } from "node:path";
import type { Logger } from "@platform/core";
import type { Command } from "commander";
import { type Cli, configExplicit, examples, withConfig, withRoot } from "./cli.ts";
import { listOption } from "./options.ts";

export interface ExportVapOptions {
  config: string;
  configExplicit: boolean;
  root: string;
  out?: string;
  validationActions?: string[];
  paramsNamespace?: string;
}

/** `platform policy export-vap`: the built-in guardrails as ValidatingAdmissionPolicy YAML, on stdout or in a file. */
export async function runExportVap(
  o: ExportVapOptions,
  io: { out: (s: string) => void; log: Logger },
): Promise<{ code: number }> {
  const root = resolve(o.root);
  const { loadConfig, writeFileAtomic } = await import("@platform/core");
  const { config, source } = await loadConfig(resolve(root, o.config), { explicit: o.configExplicit });
  io.log.info(source ? `config: ${o.config}` : "config: built-in defaults (no platform.yaml)");
  const { BUILTIN_RULES, builtinParams, builtinsAsVap } = await import("@platform/policy");
  const disabled = new Set(config.policy.disabledRules);
  const exported = builtinsAsVap(builtinParams(config), {
    rules: BUILTIN_RULES.filter((r) => !disabled.has(r.id) && !disabled.has(r.name)),
    excludedNamespaces: config.policy.excludedNamespaces,
    ...(o.validationActions?.length
      ? { validationActions: o.validationActions as Array<"Deny" | "Warn" | "Audit"> }
      : {}),
    ...(o.paramsNamespace ? { paramsNamespace: o.paramsNamespace } : {}),
  });
  for (const s of exported.skipped) io.log.warn(`${s.id} is not exported: ${s.reason}`);
  const policies = exported.documents.filter(
    (d) => (d as { kind?: string }).kind === "ValidatingAdmissionPolicy",
  ).length;
  if (o.out) {
    await writeFileAtomic(resolve(root, o.out), exported.yaml, { input: "out" });
    io.log.info(
      `wrote ${policies} ValidatingAdmissionPolicies with bindings and their param ConfigMap to ${o.out}`,
    );
  } else io.out(exported.yaml);
  return { code: 0 };
}

/** Registers `policy export-vap` on the `policy` command. */
export function registerExportVap(policy: Command, cli: Cli): void {
  const cmd = policy
    .command("export-vap")
    .description(
      "print the built-in guardrails as ValidatingAdmissionPolicy YAML (policies, bindings, param ConfigMap) for clusters that enforce natively",
    )
    .option("--out <file>", "write the YAML to this file instead of stdout")
    .option(
      "--validation-actions <list>",
      "binding actions for error rules: Deny, Warn, Audit (comma-separated)",
      listOption,
      [],
    )
    .option("--params-namespace <namespace>", "namespace of the param ConfigMap", "kube-system");
  withRoot(withConfig(cmd));
  examples(
    cmd,
    "$ platform policy export-vap --out cluster/guardrails.yaml",
    "$ platform policy export-vap --validation-actions Warn,Audit | kubectl apply -f -",
  );
  cmd.action(async (o, c: Command) => {
    const r = await runExportVap({ ...o, configExplicit: configExplicit(c) }, { out: cli.out, log: cli.log });
    cli.done(r.code);
  });
}
