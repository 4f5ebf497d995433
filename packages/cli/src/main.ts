import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, ExitCode, errorMessage, exitCodeFor, PlatformError } from "@platform/core";
import { Command, CommanderError, Option } from "commander";
import { demoBuildScan, registerBuildScan } from "./build-scan.ts";
import { demoBump, runBump } from "./bump.ts";
import { demoCanary, runCanaryGate, runCanaryServe } from "./canary.ts";
import { registerExportVap } from "./export-vap.ts";
import { runIacCheck } from "./iac.ts";
import { listOption } from "./options.ts";
import { renderRuleCounts, runPolicyCheck } from "./policy.ts";
import { runPolicyTest } from "./policy-test.ts";
import { demoSign, registerSign } from "./sign.ts";
import { registerTeam } from "./team.ts";
import { regoCompiler } from "./tools.ts";
import { demoUpgrade, registerUpgrade } from "./upgrade.ts";

/** The version stamped into the bundle at build time (falls back for source runs). */
declare const __PLATFORM_VERSION__: string | undefined;
const VERSION = typeof __PLATFORM_VERSION__ === "string" ? __PLATFORM_VERSION__ : "0.0.0-dev";

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Finds the repository root (for the bundled example and the peers folder) from the CLI's own location. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "examples", "northwind", "platform.yaml"))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** Runs the `platform` CLI with argv (without node and script); returns the exit code, never exits. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  // Progress and logs go to stderr so stdout carries only the result (table or --json).
  const debug = io.env.PLATFORM_DEBUG === "1";
  const log = createLogger({
    write: (level, line) =>
      (level !== "debug" || debug) && io.err(`${level === "info" ? "" : `${level}: `}${line}\n`),
  });
  const color = !io.env.NO_COLOR && io.env.FORCE_COLOR !== "0" && process.stdout.isTTY === true;
  let code: number = ExitCode.ok;
  const program = new Command("platform")
    .description("Platform toolkit: guardrails and delivery for teams on a shared private AKS cluster")
    .version(VERSION, "-v, --version")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  const policy = program.command("policy").description("check manifests against the platform's guardrails");
  policy
    .command("check")
    .description(
      "dry-run manifests (files, dirs, globs, kustomize dirs, charts) against the guardrails the cluster enforces",
    )
    .argument("<manifests...>", "files, directories, globs, kustomize directories or Helm charts")
    .addOption(
      new Option("--render <mode>", "how to render directories")
        .choices(["auto", "none", "kustomize", "helm"])
        .default("auto"),
    )
    .option(
      "--policies <list>",
      "builtin, rule ids/names, azure-* presets, or policy files/dirs (comma-separated, repeatable)",
      listOption,
      [],
    )
    .option(
      "--params <file>",
      "param objects for ValidatingAdmissionPolicy bindings (repeatable)",
      listOption,
      [],
    )
    .option("--values <file>", "Helm values file for charts (repeatable)", listOption, [])
    .option("--waivers <file>", "waiver file: exceptions with owner and expiry")
    .addOption(
      new Option("--mode <mode>", "enforce fails on violations; audit and warn report only")
        .choices(["enforce", "audit", "warn"])
        .default("enforce"),
    )
    .option("--sarif <file>", "write SARIF 2.1.0 here")
    .option("--config <file>", "platform.yaml", "platform.yaml")
    .option("--root <dir>", "workspace root that paths are relative to", io.cwd)
    .option(
      "--allow-empty",
      "pass when the inputs hold no object (default: checking nothing is an error)",
      false,
    )
    .option("--allow-remote-bases", "let kustomizations use remote bases and charts not vendored", false)
    .option(
      "--kube-version <x.y>",
      "Kubernetes version charts render for (default: platform.yaml, else 1.32)",
    )
    .option("--json", "print results as JSON", false)
    .action(async (manifests: string[], o) => {
      const r = await runPolicyCheck(
        manifests,
        {
          ...o,
          configExplicit: program.commands[0]!.commands[0]!.getOptionValueSource("config") === "cli",
          color,
        },
        {
          out: io.out,
          log,
          env: io.env,
          repoRoot: repoRoot(),
          version: VERSION,
          rego: regoCompiler(io.env, repoRoot(), log),
        },
      );
      code = r.code;
    });

  policy
    .command("test")
    .description(
      "run Gatekeeper suites (suite.yaml, as gator verify) and Kyverno tests (kyverno-test.yaml) unchanged",
    )
    .argument("<paths...>", "directories or suite files")
    .option("--root <dir>", "directory paths are relative to", io.cwd)
    .option("--json", "print results as JSON", false)
    .action(async (paths: string[], o) => {
      const r = await runPolicyTest(
        paths,
        { ...o, color, rego: regoCompiler(io.env, repoRoot(), log) },
        { out: io.out },
      );
      code = r.code;
    });

  registerExportVap(policy, { out: io.out, log, cwd: io.cwd }, (c) => {
    code = c;
  });

  const iac = program.command("iac").description("check infrastructure as code (Bicep) statically");
  iac
    .command("check")
    .description(
      "check .bicep files (and the modules they use) against the landing zone's controls, without a Bicep compiler",
    )
    .argument("<paths...>", ".bicep files or directories")
    .option(
      "--parameters <file>",
      "a .bicepparam (applies to the file it is `using`) or ARM parameters JSON file (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
      [],
    )
    .option("--env <name>", "check each <dir>/main.bicep with <dir>/parameters/<name>.bicepparam")
    .option("--sarif <file>", "write SARIF 2.1.0 here")
    .option("--summary <file>", "append a Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    .option("--fail-on-unknown", "also fail on controls that cannot be proven statically", false)
    .option("--root <dir>", "workspace root that paths are relative to", io.cwd)
    .option("--json", "print findings as JSON", false)
    .action(async (paths: string[], o) => {
      const r = await runIacCheck(paths, { ...o, color }, { out: io.out, env: io.env, version: VERSION });
      code = r.code;
    });

  program
    .command("bump")
    .description(
      "bump an image's digest in a GitOps config repo: a pull request per environment, or edits in a checkout",
    )
    .requiredOption("--image-ref <ref>", "the built image with its digest (repo@sha256:…)")
    .requiredOption(
      "--config-repo <repo>",
      "owner/name (GitHub; token from --token or GITHUB_TOKEN) or a path to a checkout",
    )
    .option("--environments <list>", "environments from platform.yaml (default: the first)", listOption, [])
    .option("--paths <list>", "directories to search (default: each environment's path)", listOption, [])
    .option("--token <token>", "GitHub token (default: $GITHUB_TOKEN)")
    .option("--branch-prefix <prefix>", "bump branch prefix", "platform/bump")
    .addOption(
      new Option("--auto-merge <method>", "enable auto-merge")
        .choices(["false", "merge", "squash", "rebase"])
        .default("false"),
    )
    .option(
      "--labels <label>",
      "pull request label (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
      [],
    )
    .option("--base <branch>", "base branch (default: the repository's default branch)")
    .option("--force", "skip the promotion rule", false)
    .option("--tag <tag>", "the new tag, for --tag-policy update (default: the image-ref's tag)")
    .addOption(
      new Option(
        "--tag-policy <policy>",
        "a tag beside the digest: update, keep or drop (auto: update with a tag)",
      )
        .choices(["auto", "update", "keep", "drop"])
        .default("auto"),
    )
    .option(
      "--allow-skipped",
      "bump although some references found are not edited (each is a warning)",
      false,
    )
    .option("--no-verify-render", "edit Helm values without checking the chart's render with helm template")
    .option("--commit", "local mode: commit the edit with git", false)
    .option("--config <file>", "platform.yaml", "platform.yaml")
    .option("--root <dir>", "workspace root that paths are relative to", io.cwd)
    .option("--json", "print the outcome as JSON", false)
    .action(async (o) => {
      if (o.token) log.secret(o.token);
      code = await runBump(o, { out: io.out, log, env: io.env, repoRoot: repoRoot() });
    });

  registerBuildScan(program, { out: io.out, log, env: io.env, cwd: io.cwd, version: VERSION }, (c) => {
    code = c;
  });
  registerUpgrade(program, { out: io.out, log, env: io.env, cwd: io.cwd }, (c) => {
    code = c;
  });

  const canary = program.command("canary").description("promote or roll back a canary from mesh metrics");
  canary
    .command("gate")
    .description("evaluate a canary against its primary (anytime-valid sequential test; missing data holds)")
    .requiredOption(
      "--prometheus-url <url>",
      "Prometheus or managed Prometheus query endpoint, or file://<openmetrics> to replay",
    )
    .requiredOption("--namespace <ns>", "namespace of the service")
    .requiredOption("--service <name>", "Flagger target: canary <service>, primary <service>-primary")
    .option("--canary-selector <label=value>", "override the canary arm")
    .option("--primary-selector <label=value>", "override the primary arm")
    .addOption(
      new Option("--mesh <mesh>", "metric source").choices(["istio", "cilium", "custom"]).default("istio"),
    )
    .option("--queries <text>", "custom PromQL: lines of requests: / errors: / latency:")
    .option("--slo <list>", "availability=99.9%, latency=<bound>")
    .option("--interval <duration>", "evaluation interval", "1m")
    .option("--max-duration <duration>", "maximum canary duration", "30m")
    .addOption(
      new Option("--mode <mode>", "one evaluation or watch").choices(["once", "watch"]).default("once"),
    )
    .option("--at <time>", "evaluate as of this time (RFC 3339)")
    .option("--json", "print the decision as JSON", false)
    .action(async (o) => {
      code = await runCanaryGate(o, { out: io.out, log, env: io.env });
    });

  canary
    .command("serve")
    .description(
      "serve the gate as a Flagger webhook (POST /flagger) and an Argo Rollouts web metric (/argo)",
    )
    .requiredOption(
      "--prometheus-url <url>",
      "Prometheus or managed Prometheus query endpoint (or file:// replay)",
    )
    .option("--port <port>", "port to listen on", "8080")
    .option("--host <host>", "address to listen on (0.0.0.0 in a pod)", "127.0.0.1")
    .addOption(
      new Option("--mesh <mesh>", "metric source").choices(["istio", "cilium", "custom"]).default("istio"),
    )
    .option("--interval <duration>", "evaluation interval", "1m")
    .option("--max-duration <duration>", "maximum canary duration", "30m")
    .option("--slo <list>", "availability=99.9%, latency=<bound>")
    .option("--timeout <duration>", "answer within this time (Flagger and Argo wait 10 s)")
    .action(async (o) => {
      code = await runCanaryServe(o, { out: io.out, log, env: io.env });
    });

  registerSign(program, { out: io.out, log, env: io.env, cwd: io.cwd }, (c) => {
    code = c;
  });
  registerTeam(program, { out: io.out, log, cwd: io.cwd }, (c) => {
    code = c;
  });

  program
    .command("demo")
    .description("run the policy check on the bundled Northwind sample config repo")
    .action(async () => {
      const root = repoRoot();
      if (!root)
        throw new PlatformError("DEMO_MISSING", "the bundled example is not next to this CLI", {
          category: "environment",
          hint: "Run the demo from a clone of the platform repository: npm run demo.",
        });
      const example = join(root, "examples", "northwind");
      io.out(
        "Northwind Traders: checking the GitOps config repo (kustomize overlays, a Helm chart, plain YAML)\nagainst the platform guardrails and the cluster's own policies (a ValidatingAdmissionPolicy with\nparams, a Gatekeeper template, a Kyverno ValidatingPolicy), with the team's waivers.\n\n",
      );
      const r = await runPolicyCheck(
        ["config-repo"],
        {
          render: "auto",
          policies: ["builtin", "policies"],
          values: [],
          waivers: "config-repo/platform/waivers.yaml",
          mode: "enforce",
          sarif: undefined,
          config: "platform.yaml",
          configExplicit: true,
          root: example,
          json: false,
          color,
        },
        {
          out: io.out,
          log,
          env: io.env,
          repoRoot: root,
          version: VERSION,
          rego: regoCompiler(io.env, root, log),
        },
      );
      io.out(
        `\n${renderRuleCounts(r.result)}\n\nRendered: ${r.result.units.map((u) => `${u.path} (${u.kind}, ${u.objects} objects)`).join("; ")}\n`,
      );
      io.out(
        `\nThe same check in CI: uses: org/platform/actions/policy-dry-run@v1 (see README). Exit code would be ${r.code}.\n`,
      );
      await demoBuildScan(example, { out: io.out, log, env: io.env, cwd: io.cwd, version: VERSION });
      await demoBump(example, { out: io.out });
      await demoCanary({ out: io.out });
      await demoSign({ out: io.out });
      await demoUpgrade(example, { out: io.out });
      code = ExitCode.ok;
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof PlatformError) io.err(`error: ${err.describe()}\n`);
    else io.err(`error: ${errorMessage(err)}\n`);
    return exitCodeFor(err);
  }
}
