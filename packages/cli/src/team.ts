import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import type { Logger } from "@platform/core";
import { ExitCode, PlatformError } from "@platform/core/errors";
import type { Command } from "commander";
import { type Cli, examples, promptsForMissing, withConfig, withOutput, withRoot } from "./cli.ts";

export interface TeamIo {
  out: (s: string) => void;
  log: Logger;
  cwd: string;
}

interface TeamOptions {
  config: string;
  out?: string;
  root: string;
  json: boolean;
}

/** Registers `platform team render`, `team check` and `team add`. */
export function registerTeam(program: Command, io: Cli): void {
  const team = program
    .command("team")
    .description("render every team's namespace, identity and mesh policy from platform.yaml");
  const common = (c: Command) =>
    withOutput(
      withRoot(
        withConfig(c).option(
          "--out <dir>",
          "the config-repo directory the render owns (default: platform.yaml's tenancy.out)",
        ),
      ),
      "the outcome",
    );
  const render = common(
    team.command("render").description("write the render; files of removed teams or services are removed"),
  );
  examples(render, "$ platform team render", "$ platform team render --config platform.yaml --out teams/");
  render.action(async (o: TeamOptions) => io.done(await runTeamRender(o, io)));
  const check = common(
    team
      .command("check")
      .description("exit 1 when the committed render differs from platform.yaml (prints the diff)"),
  );
  examples(check, "$ platform team check", "$ platform team check --config examples/northwind/platform.yaml");
  check.action(async (o: TeamOptions) => io.done(await runTeamCheck(o, io)));
  const repeat = (v: string, p: string[] = []) => [...p, v];
  const add = common(
    team
      .command("add")
      .description(
        "append a team to platform.yaml (validated whole before it is written), then render; prompts on a terminal for what flags do not give",
      )
      .requiredOption("--name <name>", "the team's name")
      .option("--namespace <ns>", "its namespace (default: the name)")
      .option("--owner <object-id>", "an owners' Entra group object id (repeatable)", repeat, [])
      .option("--service <name[:port]=image@digest>", "a service (repeatable)", repeat, []),
  );
  promptsForMissing(add);
  examples(
    add,
    "$ platform team add                      # on a terminal: asks for name, namespace, owners, services",
    "$ platform team add --name payments --owner 6f1c…-group-id --service api:8080=myacr.azurecr.io/payments/api@sha256:…",
  );
  add.action(async (o: TeamAddOptions, cmd: Command) =>
    io.done(await runTeamAdd(io.interactive ? await askForTeam(o, cmd, io) : o, io)),
  );
}

type TeamAddOptions = TeamOptions & { name: string; namespace?: string; owner: string[]; service: string[] };

/**
 * On a terminal, asks for what the flags did not give: the name (until one is typed), the namespace
 * (Enter takes the name), owners and services (Enter for none). Flags given are never asked again.
 */
export async function askForTeam(
  o: TeamAddOptions,
  cmd: Command,
  io: Pick<Cli, "ask" | "err">,
): Promise<TeamAddOptions> {
  const given = (name: string) => cmd.getOptionValueSource(name) === "cli";
  let name = o.name;
  for (let tries = 0; !name && tries < 3; tries++) name = (await io.ask("Team name: ")).trim();
  if (!name)
    throw new PlatformError("TEAM_NAME_MISSING", "team add needs a name", {
      input: "name",
      hint: "Type a name at the prompt, or pass --name <name>.",
    });
  const namespace = given("namespace") ? o.namespace : (await io.ask(`Namespace [${name}]: `)).trim() || name;
  const owner = given("owner")
    ? o.owner
    : (await io.ask("Owners' Entra group object ids (comma-separated, Enter for none): "))
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
  const service = [...o.service];
  if (!given("service")) {
    io.err("Services as name[:port]=image@digest, one per line (Enter on an empty line ends):\n");
    for (let line = (await io.ask("  service: ")).trim(); line; line = (await io.ask("  service: ")).trim())
      service.push(line);
  }
  return { ...o, name, namespace, owner, service };
}

/** `platform team add`: appends the team to platform.yaml, keeping every other byte, and renders. */
export async function runTeamAdd(o: TeamAddOptions, io: TeamIo): Promise<number> {
  const configPath = resolve(resolve(o.root), o.config);
  const text = await readConfig(configPath, o.config);
  const { addTeam } = await import("@platform/tenancy");
  const next = addTeam(text, o.config, {
    name: o.name,
    namespace: o.namespace ?? o.name,
    owners: o.owner,
    services: o.service,
  });
  const { writeFileAtomic } = await import("@platform/core");
  await writeFileAtomic(configPath, next, { input: "config" });
  io.log.info(`added team ${o.name} to ${o.config}`);
  return runTeamRender(o, io);
}

async function readConfig(path: string, shown: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError(
      "CONFIG_NOT_FOUND",
      `cannot read ${shown}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        input: "config",
        hint: "The team commands need platform.yaml's teams: pass its path with --config.",
        cause: err,
      },
    );
  }
}

async function prepare(o: TeamOptions) {
  const root = resolve(o.root);
  const configPath = resolve(root, o.config);
  const text = await readConfig(configPath, o.config);
  const { parseTeamsConfig } = await import("@platform/tenancy");
  const config = parseTeamsConfig(text, o.config);
  const { tenancySettings } = await import("@platform/core");
  const out = o.out ? resolve(root, o.out) : resolve(dirname(configPath), tenancySettings(config).out);
  return { config, out, shown: relative(root, out) || "." };
}

/** `platform team render`: writes the render into the config repo and says what changed. */
export async function runTeamRender(o: TeamOptions, io: TeamIo): Promise<number> {
  const { config, out, shown } = await prepare(o);
  const { readRender, renderTeams, writeRender } = await import("@platform/tenancy");
  // The committed render is an input too: the images digest-bump pinned there are kept.
  const render = renderTeams(config, { committed: await readRender(out) });
  const r = await writeRender(out, render);
  for (const n of render.notes) io.log.info(`note: ${n}`);
  if (o.json) io.out(`${JSON.stringify({ out: shown, ...r, notes: render.notes }, null, 2)}\n`);
  else {
    for (const p of r.written) io.out(`wrote    ${shown}/${p}\n`);
    for (const p of r.removed) io.out(`removed  ${shown}/${p} (no longer in platform.yaml)\n`);
    io.out(
      `${config.teams.length} team(s), ${config.teams.reduce((n, t) => n + t.services.length, 0)} service(s): ${r.written.length} written, ${r.removed.length} removed, ${r.unchanged.length} unchanged\n`,
    );
  }
  return ExitCode.ok;
}

/** `platform team check`: exit 1 with a unified diff when the committed render drifted from platform.yaml. */
export async function runTeamCheck(o: TeamOptions, io: TeamIo): Promise<number> {
  const { config, out, shown } = await prepare(o);
  const { checkRender, readRender, renderTeams } = await import("@platform/tenancy");
  const drift = await checkRender(out, renderTeams(config, { committed: await readRender(out) }));
  if (o.json) io.out(`${JSON.stringify({ out: shown, ...drift }, null, 2)}\n`);
  else if (drift.drifted.length) io.out(drift.diff);
  if (drift.drifted.length) {
    io.log.error(
      `${shown}: ${drift.drifted.length} file(s) differ from what ${o.config} renders (${drift.drifted.join(", ")}); run \`platform team render\` and commit the result`,
    );
    return ExitCode.verdict;
  }
  io.log.info(`${shown}: the committed render matches ${o.config}`);
  return ExitCode.ok;
}
