// Placeholder replaced by the Azure credential implementation.
import type { TokenCredential } from "@azure/core-auth";
import type { Logger } from "./log.ts";
export interface AzureCredentialOptions { env?: NodeJS.ProcessEnv; log?: Logger; tenantId?: string; clientId?: string; authorityHost?: string; fetch?: typeof fetch }
export async function requestGitHubOidcToken(_audience: string, _opts: AzureCredentialOptions = {}): Promise<string> { throw new Error("not implemented"); }
export function createAzureCredential(_opts: AzureCredentialOptions = {}): TokenCredential { throw new Error("not implemented"); }
