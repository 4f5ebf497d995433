import { PlatformError, parseYamlStream } from "@platform/core";
import { z } from "zod";
import { readInputFile } from "./read.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

const WaiverSchema = z.strictObject({
  id: z
    .string()
    .regex(/^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$/, "must be a CVE-… or GHSA-… id"),
  /** Only this package; every package with the advisory when absent. */
  package: z.string().min(1).optional(),
  reason: z.string().min(10, "must explain why (at least 10 characters)"),
  owner: z.string().min(1, "must name who owns the exception"),
  expires: z
    .string()
    .refine((s) => DATE.test(s) && !Number.isNaN(Date.parse(s)), "must be a date, YYYY-MM-DD"),
});

const WaiverFileSchema = z.strictObject({ waivers: z.array(WaiverSchema).default([]) });

/** One accepted risk: an advisory (optionally for one package), with who owns it and until when. */
export interface ScanWaiver extends z.output<typeof WaiverSchema> {
  file: string;
  line: number;
}

function invalid(file: string, message: string, line?: number, column?: number): PlatformError {
  return new PlatformError("SCAN_WAIVERS_INVALID", message, {
    file,
    line,
    column,
    input: "waivers",
    hint: "Each entry under `waivers:` needs id (CVE-… or GHSA-…), reason, owner and expires (YYYY-MM-DD); package is optional.",
  });
}

/** Parses a waivers file's text; every error names file:line. */
export function parseWaivers(text: string, file: string): ScanWaiver[] {
  const stream = parseYamlStream(text, file, { maxDocuments: 1 });
  const doc = stream.docs[0];
  const syntax = doc?.errors[0];
  if (syntax) throw invalid(file, `invalid YAML: ${syntax.message}`, syntax.line, syntax.column);
  if (!doc || doc.value === null || doc.value === undefined) return [];
  const parsed = WaiverFileSchema.safeParse(doc.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const pos = stream.position(doc, path);
    throw invalid(file, `${path.join(".") || "(top level)"}: ${issue.message}`, pos.line, pos.column);
  }
  return parsed.data.waivers.map((w, i) => ({ ...w, file, line: stream.position(doc, ["waivers", i]).line }));
}

/** Reads and parses a waivers file; `display` is the path shown in errors (relative to the workspace). */
export async function loadScanWaivers(path: string, display = path): Promise<ScanWaiver[]> {
  const text = await readInputFile(path, display, {
    code: "SCAN_WAIVERS_NOT_FOUND",
    label: "waivers file",
    input: "waivers",
    hint: "Check the `waivers` path (relative to the workspace).",
  });
  return parseWaivers(text, display);
}
