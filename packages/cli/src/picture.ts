// The demo's closing picture: the teams, services and identities `platform team render` gives Northwind, the
// call graph its mesh policies allow (mermaid), and what each delivery step of the demo just did. The terminal
// gets the short form (one row per team, the team-level graph); a Markdown file gets every service.
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PlatformConfig, tenancySettings, writeFileAtomic } from "@platform/core";
import {
  type AllowedCall,
  allowedCalls,
  parseTeamsConfig,
  type RenderResult,
  readRender,
  renderTeams,
  type WorkloadIdentity,
  workloadIdentities,
} from "@platform/tenancy";
import type { Cli } from "./cli.ts";

/** One delivery step of the demo and what it did (its own verdict lines). */
export interface DeliveryStep {
  step: string;
  did: string;
}

/** The lines by which each demo step states its outcome (the demo steps print them; nothing is made up). */
const OUTCOMES: Array<{ step: string; lines: RegExp }> = [
  { step: "build-scan", lines: /^(passed|failed): .*|^promoted \S+/ },
  { step: "digest-bump", lines: /^Bumps `.*/ },
  { step: "canary-gate", lines: /^\s*decision: .*/ },
  { step: "sign", lines: /^✅ Signed .*/ },
  { step: "verify", lines: /^(✅ Verified|❌ Not verified).*/ },
  { step: "upgrade plan", lines: /^Upgrade plan for .*/ },
];

/** The delivery steps' outcomes, from what the demo printed. A step that printed none says so. */
export function deliverySteps(printed: string): DeliveryStep[] {
  const lines = printed.split("\n");
  return OUTCOMES.map(({ step, lines: re }) => {
    const found = lines
      .filter((l) => re.test(l))
      .map((l) => l.trim().replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, "sha256:$1…"));
    return { step, did: found.length ? found.join("; ") : "(no outcome printed: the step did not run)" };
  });
}

const POOLS = ["general", "memory", "spot", "gpu"];
const nodeId = (team: string, service: string) => `${team}_${service}`.replaceAll("-", "_");

/** The picture as terminal text and as a Markdown document; pure. */
export function platformPicture(
  config: PlatformConfig,
  render: RenderResult,
  delivery: DeliveryStep[],
): { terminal: string; markdown: string } {
  const calls = allowedCalls(config, render);
  const ids = workloadIdentities(render);
  const services = config.teams.reduce((n, t) => n + t.services.length, 0);
  const rows = config.teams.map((t) => {
    const pools = new Map<string, number>();
    for (const s of t.services) pools.set(s.pool, (pools.get(s.pool) ?? 0) + 1);
    return [
      t.name,
      t.namespace,
      String(t.services.length),
      String(ids.filter((i) => i.team === t.name).length),
      t.services.flatMap((s) => (s.expose ? [s.expose.host] : [])).join(", ") || "—",
      [...pools]
        .sort(([a], [b]) => POOLS.indexOf(a) - POOLS.indexOf(b))
        .map(([p, n]) => `${p} ${n}`)
        .join(", "),
    ];
  });
  const header = ["team", "namespace", "services", "identities", "exposed", "pools"];
  const mesh = config.tenancy?.mesh ?? "istio";
  const summary = `${config.teams.length} teams, ${services} services, ${ids.length} workload identities (each federated to its own ServiceAccount, no secrets); every namespace default-deny${mesh === "istio" ? " with STRICT mTLS" : ""}; ${calls.length} allowed calls.`;
  const terminal = [
    "",
    "The platform, as `platform team render` builds it from platform.yaml:",
    table(header, rows),
    summary,
    `Allowed calls between teams (${mesh} ALLOW rules, read back from the render):`,
    "```mermaid",
    teamGraph(config, calls),
    "```",
    "What each delivery step just did:",
    table(
      ["step", "did"],
      delivery.map((d) => [d.step, d.did.length > 150 ? `${d.did.slice(0, 149)}…` : d.did]),
    ),
  ].join("\n");
  const markdown = [
    "# The platform picture (Northwind)",
    "",
    summary,
    "",
    "## Teams",
    "",
    mdTable(header, rows),
    "",
    "## Allowed calls",
    "",
    "Read back from the rendered mesh policies: every other call is denied.",
    "",
    "```mermaid",
    serviceGraph(config, calls),
    "```",
    "",
    "## Workload identities",
    "",
    mdTable(
      ["identity", "federated subject", "roles"],
      ids.map((i: WorkloadIdentity) => [i.name, `\`${i.subject}\``, i.roles.join(", ") || "—"]),
    ),
    "",
    "## Delivery",
    "",
    mdTable(
      ["step", "did"],
      delivery.map((d) => [d.step, d.did]),
    ),
    "",
  ].join("\n");
  return { terminal: `${terminal}\n`, markdown };
}

function teamGraph(config: PlatformConfig, calls: AllowedCall[]): string {
  const edges = new Map<string, number>();
  for (const c of calls) {
    const from = "gateway" in c.from ? "gateway" : c.from.team;
    if (from === c.to.team) continue;
    const k = `${from} ${c.to.team}`;
    edges.set(k, (edges.get(k) ?? 0) + 1);
  }
  return [
    "flowchart LR",
    "  gateway((Gateway))",
    ...config.teams.map((t) => `  ${t.name}[${t.name}: ${t.services.length} services]`),
    ...[...edges].sort().map(([k, n]) => {
      const [from, to] = k.split(" ");
      return `  ${from} -->|${n}| ${to}`;
    }),
  ].join("\n");
}

function serviceGraph(config: PlatformConfig, calls: AllowedCall[]): string {
  const lines = ["flowchart LR", "  gateway((Gateway))"];
  for (const t of config.teams) {
    lines.push(`  subgraph ${t.name}`);
    for (const s of t.services) lines.push(`    ${nodeId(t.name, s.name)}[${s.name}]`);
    lines.push("  end");
  }
  for (const c of calls)
    lines.push(
      `  ${"gateway" in c.from ? "gateway" : nodeId(c.from.team, c.from.service)} --> ${nodeId(c.to.team, c.to.service)}`,
    );
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

function mdTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.map(cell).join(" | ")} |`).join("\n");
}

/** What `recordDelivery` hands back: call `picture` after the last delivery step. */
export interface DeliveryRecorder {
  /** Prints the picture (from the example's platform.yaml and render) and writes the Markdown file. */
  picture(example: string, target?: string): Promise<void>;
}

/**
 * Tees the demo's output from here on (the same text still reaches the terminal), so the closing picture can
 * say what each delivery step did in the steps' own words.
 */
export function recordDelivery(cli: Cli): DeliveryRecorder {
  const out = cli.out;
  let printed = "";
  cli.out = (s) => {
    printed += s;
    out(s);
  };
  return {
    async picture(example, target = join(tmpdir(), "northwind-platform-picture.md")) {
      cli.out = out;
      const file = join(example, "platform.yaml");
      const config = parseTeamsConfig(await readFile(file, "utf8"), file);
      const committed = await readRender(join(example, tenancySettings(config).out));
      const render = renderTeams(config, { committed });
      const { terminal, markdown } = platformPicture(config, render, deliverySteps(printed));
      await writeFileAtomic(target, markdown);
      out(`${terminal}\nThe full picture (every service, identity and allowed call): ${target}\n`);
    },
  };
}
