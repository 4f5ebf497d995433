// A local sigstore instance for keyless tests: GitHub OIDC (test/fakes/entra.ts), Fulcio, Rekor and a TSA
// (the @sigstore/mock handlers served on 127.0.0.1; no network), and the trusted_root.json that
// describes them, in the protobuf-specs JSON form cosign's `trusted-root create` writes.
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from "@sigstore/mock";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { type GitHubOidcFake, startGitHubOidcFake } from "../fakes/entra.ts";

type Handler = {
  path: string;
  fn: (
    body: string,
  ) => Promise<{ statusCode: number; response: string | ArrayBufferView; contentType?: string }>;
};

export interface Served {
  url: string;
  server: Server;
  calls: string[];
}

async function serve(handler: Handler): Promise<Served> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      calls.push(`${req.method} ${req.url}`);
      if (req.method !== "POST" || req.url !== handler.path) {
        res.writeHead(404);
        res.end();
        return;
      }
      const r = await handler.fn(body);
      res.writeHead(r.statusCode, { "content-type": r.contentType ?? "application/json" });
      const out = r.response;
      res.end(typeof out === "string" ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

/**
 * Real Rekor stores a dsse v0.0.1 entry canonicalised (pkg/types/dsse/v0.0.1 Canonicalize: envelopeHash,
 * payloadHash, signatures with their verifier) and signs/proves that body; the mock logs the proposed
 * entry as sent, which no verifier accepts. This wraps the mock so the logged body is the canonical one.
 */
function canonicalisingRekor(inner: Handler): Handler {
  return {
    path: inner.path,
    fn: async (body) => {
      const proposed = JSON.parse(body);
      if (proposed.kind !== "dsse" || proposed.apiVersion !== "0.0.1") return inner.fn(body);
      const { envelope, verifiers } = proposed.spec.proposedContent as {
        envelope: string;
        verifiers: string[];
      };
      const env = JSON.parse(envelope) as { payload: string; signatures: Array<{ sig: string }> };
      const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
      const canonical = {
        apiVersion: "0.0.1",
        kind: "dsse",
        spec: {
          envelopeHash: { algorithm: "sha256", value: sha256(envelope) },
          payloadHash: { algorithm: "sha256", value: sha256(Buffer.from(env.payload, "base64")) },
          signatures: env.signatures.map((s) => ({ signature: s.sig, verifier: verifiers[0] })),
        },
      };
      return inner.fn(JSON.stringify(canonical));
    },
  };
}

/** What real Fulcio puts in the URI SAN of a GitHub Actions certificate: the workflow that ran. */
export const WORKFLOW_SAN =
  "https://github.com/octo-org/octo-repo/.github/workflows/deliver.yml@refs/heads/main";

export interface SigstoreFakes {
  gh: GitHubOidcFake;
  fulcio: Served;
  rekor: Served;
  tsa: Served;
  /** The environment a keyless signing job sees (OIDC + SIGSTORE_*_URL). */
  env: Record<string, string>;
  /** trusted_root.json content for this instance. */
  trustedRoot: Record<string, unknown>;
  /** The same root with another Fulcio CA instead of the one that issued the certificates. */
  foreignTrustedRoot(): Promise<Record<string, unknown>>;
  writeTrustedRoot(file: string, root?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** Starts OIDC, Fulcio, Rekor and TSA; `claims` override the minted tokens' claims (e.g. another issuer). */
export async function startSigstoreFakes(opts: { issuer?: string } = {}): Promise<SigstoreFakes> {
  // Real Fulcio derives the SAN from job_workflow_ref; the mock copies one claim verbatim, so the
  // tokens carry the value real Fulcio would compute in an extra claim.
  const gh = await startGitHubOidcFake({ issuer: opts.issuer, claims: { fulcio_san: WORKFLOW_SAN } });
  const keyPair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  // A whole-second clock for the mock services: with milliseconds, the mock TSA's GeneralizedTime is
  // now and then rejected by the verifier's parser ("invalid time"). It is set a second or two ahead:
  // the mock makes its CA certificates afterwards with notBefore = the real now, and a timestamp from
  // before a certificate's notBefore does not verify (that raced whenever setup crossed a second).
  const clock = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
  const ctlog = await initializeCTLog(keyPair, clock);
  const ca = await initializeCA(keyPair, ctlog, clock);
  const fulcio = await serve(fulcioHandler(ca, { strict: true, subjectClaim: "fulcio_san" }) as Handler);
  const tlog = await initializeTLog("http://rekor.local", keyPair, clock);
  const rekor = await serve(canonicalisingRekor(rekorHandler(tlog) as Handler));
  const timestamper = await initializeTSA(keyPair, clock);
  const tsa = await serve(tsaHandler(timestamper) as Handler);
  const parts = {
    fulcioRoot: bytes(ca.rootCertificate),
    tsaChain: [bytes(timestamper.intCertificate), bytes(timestamper.rootCertificate)],
    key: keyPair.publicKey,
    ctLogId: bytes(ctlog.logID),
  };
  const trustedRoot = trustedRootJson(parts);
  return {
    gh,
    fulcio,
    rekor,
    tsa,
    env: {
      ...gh.env,
      SIGSTORE_FULCIO_URL: fulcio.url,
      SIGSTORE_REKOR_URL: rekor.url,
      SIGSTORE_TSA_URL: tsa.url,
    },
    trustedRoot,
    async foreignTrustedRoot() {
      const other = await initializeCA(generateKeyPairSync("ec", { namedCurve: "prime256v1" }), ctlog, clock);
      return trustedRootJson({ ...parts, fulcioRoot: bytes(other.rootCertificate) });
    },
    async writeTrustedRoot(file, root = trustedRoot) {
      await writeFile(file, JSON.stringify(root, null, 2));
      return file;
    },
    async close() {
      await gh.close();
      for (const s of [fulcio, rekor, tsa]) s.server.close();
    },
  };
}

const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** A trusted_root.json (media type 0.1) for one Fulcio root, one TSA chain and one key for Rekor and CT. */
export function trustedRootJson(o: {
  fulcioRoot: Buffer;
  tsaChain: Buffer[];
  key: KeyObject;
  ctLogId: Buffer;
}): Record<string, unknown> {
  const spki = o.key.export({ type: "spki", format: "der" });
  const validFor = { start: new Date(Date.now() - 86_400_000) };
  const publicKey = { rawBytes: spki, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */, validFor };
  const root = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: "http://rekor.local",
        hashAlgorithm: 1,
        publicKey,
        logId: { keyId: createHash("sha256").update(spki).digest() },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "sigstore" },
        uri: "http://fulcio.local",
        certChain: { certificates: [{ rawBytes: o.fulcioRoot }] },
        validFor,
      },
    ],
    ctlogs: [{ baseUrl: "http://ct.local", hashAlgorithm: 1, publicKey, logId: { keyId: o.ctLogId } }],
    timestampAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "tsa" },
        uri: "http://tsa.local",
        certChain: { certificates: o.tsaChain.map((rawBytes) => ({ rawBytes })) },
        validFor,
      },
    ],
  };
  // Through the protobuf-specs codec, so the file is exactly what a real trusted_root.json looks like.
  return TrustedRoot.toJSON(root as unknown as TrustedRoot) as Record<string, unknown>;
}
