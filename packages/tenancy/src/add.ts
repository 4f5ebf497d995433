import { PlatformError } from "@platform/core";
import { isSeq, parseDocument, stringify } from "yaml";
import { parseTeamsConfig } from "./validate.ts";

export interface NewTeam {
  name: string;
  namespace: string;
  owners: string[];
  /** `<name>[:<port>]=<image@digest>`. */
  services: string[];
}

/**
 * platform.yaml text with a team appended to `teams` (comments and the rest of the file kept as written);
 * the result is validated whole, so a bad team is refused before anything is written.
 */
export function addTeam(text: string, file: string, team: NewTeam): string {
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new PlatformError("CONFIG_INVALID", `invalid YAML: ${doc.errors[0]!.message}`, {
      file,
      input: "config",
    });
  const services = team.services.map((s) => {
    const m = /^([a-z0-9-]+)(?::(\d+))?=(.+)$/.exec(s);
    if (!m)
      throw new PlatformError(
        "TENANCY_SERVICE_FLAG",
        `--service "${s}" is not <name>[:<port>]=<image@digest>`,
        {
          input: "service",
          hint: "Write --service api:8080=northwindacr.azurecr.io/orders/api@sha256:<digest> (repeatable); add callers, secrets and roles in platform.yaml.",
        },
      );
    return { name: m[1]!, ...(m[2] ? { port: Number(m[2]) } : {}), image: m[3]! };
  });
  const entry = { name: team.name, namespace: team.namespace, owners: team.owners, services };
  const teams = doc.get("teams", true);
  let out: string;
  if (isSeq(teams) && !teams.flow && teams.items.length && teams.range) {
    // Insert the item's text after the last one, so every other byte of the file stays as written.
    const end = teams.range[1];
    const lineStart = text.lastIndexOf("\n", (teams.items[0] as { range?: number[] }).range![0]!) + 1;
    const indent = /^ */.exec(text.slice(lineStart))![0];
    const item = stringify([entry], { lineWidth: 0 })
      .trimEnd()
      .split("\n")
      .map((l) => indent + l)
      .join("\n");
    const at = text[end - 1] === "\n" ? end - 1 : end;
    out = `${text.slice(0, at)}\n${item}${text.slice(at)}`;
  } else if (teams === undefined || teams === null || (isSeq(teams) && teams.items.length === 0)) {
    doc.set("teams", doc.createNode([entry]));
    out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  } else throw new PlatformError("CONFIG_INVALID", "teams is not a list", { file, input: "config" });
  parseTeamsConfig(out, file);
  return out;
}
