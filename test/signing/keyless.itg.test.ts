// Keyless signing through GitHub OIDC: @sigstore/sign's Fulcio signer and Rekor witness against local
// Fulcio and Rekor servers (the @sigstore/mock handlers served on 127.0.0.1; no network), and the
// resulting bundle verified by the sigstore project's own verifier (@sigstore/verify).
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keylessSigning, layoutStore, signImage, verifyImage } from "@platform/signing";
import { bundleFromJSON } from "@sigstore/bundle";
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from "@sigstore/mock";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubOidcFake, startGitHubOidcFake } from "../fakes/entra.ts";
import { layoutWithImages } from "./helpers.ts";

type Handler = {
  path: string;
  fn: (
    body: string,
  ) => Promise<{ statusCode: number; response: string | ArrayBufferView; contentType?: string }>;
};

async function serve(handler: Handler): Promise<{ url: string; server: Server; calls: string[] }> {
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

describe("keyless signing (GitHub OIDC → Fulcio, Rekor)", () => {
  let gh: GitHubOidcFake;
  let fulcio: Awaited<ReturnType<typeof serve>>;
  let rekor: Awaited<ReturnType<typeof serve>>;
  let tsa: Awaited<ReturnType<typeof serve>>;
  let root: Parameters<typeof toTrustMaterial>[0];

  beforeAll(async () => {
    gh = await startGitHubOidcFake();
    const keyPair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    // A whole-second clock for the mock services: with milliseconds, the mock TSA's GeneralizedTime is
    // now and then rejected by the verifier's parser ("invalid time").
    const clock = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ctlog = await initializeCTLog(keyPair, clock);
    const ca = await initializeCA(keyPair, ctlog, clock);
    fulcio = await serve(fulcioHandler(ca, { strict: true, subjectClaim: "job_workflow_ref" }) as Handler);
    const tlog = await initializeTLog("http://rekor.local", keyPair, clock);
    rekor = await serve(rekorHandler(tlog) as Handler);
    const timestamper = await initializeTSA(keyPair, clock);
    tsa = await serve(tsaHandler(timestamper) as Handler);
    const der = (v: ArrayBufferView) => ({ rawBytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength) });
    const spki = keyPair.publicKey.export({ type: "spki", format: "der" });
    const logId = createHash("sha256").update(spki).digest();
    const key = { rawBytes: spki, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */ };
    root = {
      mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      certificateAuthorities: [
        {
          certChain: {
            certificates: [
              {
                rawBytes: Buffer.from(
                  ca.rootCertificate.buffer,
                  ca.rootCertificate.byteOffset,
                  ca.rootCertificate.byteLength,
                ),
              },
            ],
          },
        },
      ],
      timestampAuthorities: [
        { certChain: { certificates: [der(timestamper.intCertificate), der(timestamper.rootCertificate)] } },
      ],
      tlogs: [{ baseUrl: "http://rekor.local", hashAlgorithm: 1, publicKey: key, logId: { keyId: logId } }],
      ctlogs: [
        {
          baseUrl: "http://ct.local",
          hashAlgorithm: 1,
          publicKey: key,
          logId: { keyId: Buffer.from(ctlog.logID.buffer, ctlog.logID.byteOffset, ctlog.logID.byteLength) },
        },
      ],
    } as unknown as Parameters<typeof toTrustMaterial>[0];
  });
  const sigstoreEnv = () => ({
    ...gh.env,
    SIGSTORE_FULCIO_URL: fulcio.url,
    SIGSTORE_REKOR_URL: rekor.url,
    SIGSTORE_TSA_URL: tsa.url,
  });
  afterAll(async () => {
    await gh?.close();
    for (const s of [fulcio, rekor, tsa]) s?.server.close();
  });

  it("signs with a Fulcio certificate for the workflow identity, logs in Rekor, and @sigstore/verify accepts it", async () => {
    await signAndVerify();
  });

  async function signAndVerify() {
    const {
      layout,
      digests: [digest],
    } = await layoutWithImages(await mkdtemp(join(tmpdir(), "keyless-")), ["app:1"]);
    const store = layoutStore(layout);

    const keyless = await keylessSigning({
      env: sigstoreEnv(),
    });
    expect(keyless.identity).toBe("octo-org/octo-repo/.github/workflows/deliver.yml@refs/heads/main");
    expect(gh.minted.at(-1)!.claims.aud).toBe("sigstore");
    const r = await signImage({
      imageRef: `reg.example/app@${digest}`,
      format: "both",
      signer: keyless,
      store,
    });
    expect(r.signatures.map((s) => s.kind)).toEqual(["cosign-bundle"]);
    expect(fulcio.calls).toEqual(["POST /api/v2/signingCert"]);
    expect(rekor.calls).toEqual(["POST /api/v1/log/entries"]);
    expect(tsa.calls).toEqual(["POST /api/v1/timestamp"]);

    const ref = (await store.listReferrers(digest!)).descriptors[0]!;
    const m = (await store.getManifest(ref.digest))!.manifest as { layers: Array<{ digest: string }> };
    const json = JSON.parse(Buffer.from(await store.getBlob(m.layers[0]!.digest)).toString());
    expect(json.verificationMaterial.certificate.rawBytes).toBeTruthy();
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);

    const entry = json.verificationMaterial.tlogEntries[0];
    expect(entry.kindVersion).toEqual({ kind: "dsse", version: "0.0.1" });
    // The mock Rekor stores the proposed dsse entry as sent (real Rekor canonicalises it), so the
    // sigstore verifier checks the Fulcio chain at the TSA's time, the embedded SCT, the signature and
    // the identity on a copy without the log entry.
    const offline = { ...json, verificationMaterial: { ...json.verificationMaterial, tlogEntries: [] } };
    const verifier = new Verifier(toTrustMaterial(root), {
      tlogThreshold: 0,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(offline)), {
      subjectAlternativeName: keyless.identity,
      extensions: { issuer: keyless.issuer },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(keyless.identity);

    // Our verifier reports a keyless bundle honestly instead of claiming it checked the certificate.
    const v = await verifyImage({
      imageRef: `reg.example/app@${digest}`,
      store,
      cosignKeys: [{ name: "k", key: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey }],
    });
    expect(v.verified).toBe(false);
    expect(v.checks[0]!.reason).toMatch(/keyless/);
  }

  it("refuses keyless Notary Project signatures, naming format", async () => {
    const keyless = await keylessSigning({
      env: sigstoreEnv(),
    });
    await expect(
      signImage({
        imageRef: `reg.example/app@sha256:${"a".repeat(64)}`,
        format: "notation",
        signer: keyless,
        store: {} as never,
      }),
    ).rejects.toMatchObject({ code: "SIGN_KEYLESS_NOTATION", input: "format" });
  });
});
