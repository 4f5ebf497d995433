// Our side of the policy benchmark: the domain function in-process, and the bundled CLI as a process.
import { readFileSync } from "node:fs";
import { policyCheck } from "@platform/policy";
import { timedToFile } from "./spawn.mjs";

/** Built-in rule → compared category (PLAT013–018 have no library counterpart here and are ignored). */
export const RULE_CATEGORY = {
  PLAT001: "registry",
  PLAT002: "digest",
  PLAT003: "run-as-non-root",
  PLAT004: "privilege-escalation",
  PLAT005: "privileged",
  PLAT006: "capabilities",
  PLAT007: "read-only-root-fs",
  PLAT008: "resources",
  PLAT009: "host-namespaces",
  PLAT010: "host-path",
  PLAT011: "host-port",
  PLAT012: "seccomp",
};

/** Runs policyCheck in this process; returns wall ms and the result. */
export async function runInProcess({ manifests, root, config }) {
  const t0 = performance.now();
  const result = await policyCheck(
    { manifests: [manifests], render: "none", policies: ["builtin"], mode: "enforce", config, root },
    {},
  );
  return { ms: performance.now() - t0, result };
}

/** Runs `platform policy check --json` from the bundle; stdout goes to a file. Returns wall ms and results. */
export async function runCli({ cli, manifests, root, config, outFile, nodeArgs = [] }) {
  const args = [
    ...nodeArgs,
    cli,
    "policy",
    "check",
    manifests,
    "--render",
    "none",
    "--json",
    "--config",
    config,
    "--root",
    root,
  ];
  const ms = await timedToFile(process.execPath, args, outFile, { cwd: root });
  return { ms, results: JSON.parse(readFileSync(outFile, "utf8")).results, args };
}

/** Results → Map(kind/namespace/name → Set(category)) of fail verdicts, the same of error verdicts, and error rows. */
export function ourVerdicts(results) {
  const flagged = new Map();
  const errored = new Map();
  const errors = [];
  for (const r of results) {
    const key = `${r.kind}/${r.namespace ?? ""}/${r.name}`;
    if (r.verdict === "error") errors.push({ key, policy: r.policy, msg: r.message });
    if (r.verdict !== "fail" && r.verdict !== "error") continue;
    const cat = RULE_CATEGORY[r.policy.split("/")[0]];
    if (!cat) continue;
    const into = r.verdict === "fail" ? flagged : errored;
    if (!into.has(key)) into.set(key, new Set());
    into.get(key).add(cat);
  }
  return { flagged, errored, errors };
}
