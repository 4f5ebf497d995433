// A local HTTPS stand-in for the Azure Key Vault data plane, for the calls the signing code makes:
// GetKey, Sign (keys) and GetCertificate (certificates). Every request and answer is checked against the
// published API description (test/fixtures/specs/keyvault/2025-07-01, an extract of azure-rest-api-specs)
// with the ARM fake's Swagger catalog; departures land in `mismatches`.
//
// Like the real service, a request without a bearer token gets 401 with the challenge
// `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`,
// which the SDK answers by getting a token for https://vault.azure.net/.default from that tenant.
// Signing is real: the fake holds private keys and signs the digest with the requested algorithm.
import {
  constants,
  createECDH,
  createHash,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  randomUUID,
} from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SwaggerCatalog } from "./arm/swagger.ts";
import { decodeJwt, selfSignedCertificate } from "./entra.ts";

const SPEC_DIR = join(import.meta.dirname, "..", "fixtures", "specs", "keyvault", "2025-07-01");

export interface FakeVaultKey {
  privateKey: KeyObject;
  /** DER certificate stored under the same name (Key Vault certificates back a key of the same name). */
  certificate?: Buffer;
}

export interface KeyVaultFakeOptions {
  /** Entra authority the challenge points to (the Entra fake's URL). */
  authority: string;
  tenantId: string;
  keys: Record<string, FakeVaultKey>;
  /** Key names whose sign calls are refused with 403 Forbidden (no Key Vault Crypto User role). */
  forbidSign?: string[];
}

export interface KeyVaultFake {
  url: string;
  /** host:port, for azurekv://<host:port>/<key>. */
  host: string;
  ca: string;
  caFile: string;
  requests: Array<{ method: string; path: string; operationId: string; status: number }>;
  mismatches: string[];
  /** Sign operations served, by key name. */
  signs: Record<string, number>;
  close(): Promise<void>;
}

const VERSION = "0123456789abcdef0123456789abcdef";

export async function startKeyVaultFake(opts: KeyVaultFakeOptions): Promise<KeyVaultFake> {
  const catalog = new SwaggerCatalog([join(SPEC_DIR, "keys.json"), join(SPEC_DIR, "certificates.json")]);
  const tls = await selfSignedCertificate();
  const requests: KeyVaultFake["requests"] = [];
  const mismatches: string[] = [];
  const signs: Record<string, number> = {};
  let base = "";

  const error = (status: number, code: string, message: string) => ({
    status,
    body: { error: { code, message } },
  });

  const handle = (
    req: IncomingMessage,
    raw: string,
  ): { status: number; body?: unknown; headers?: Record<string, string>; op: string } => {
    const url = new URL(req.url ?? "/", "https://fake");
    // The SDK asks for the latest version with an empty segment (/keys/name/); the spec's template needs one.
    const path = url.pathname.replace(/^\/(keys|certificates)\/([^/]+)\/?$/, "/$1/$2/latest");
    // The route is checked before authentication, so an undescribed call is a mismatch even unauthenticated.
    const match = catalog.find(req.method ?? "GET", path);
    if (!match) {
      mismatches.push(`${req.method} ${url.pathname}: not in the Key Vault spec extract`);
      return { op: "(none)", ...error(404, "NotFound", "no such operation") };
    }
    const unauthorized = (op: string, message: string, headers?: Record<string, string>) => {
      const reply = error(401, "Unauthorized", message);
      mismatches.push(...catalog.validateResponse(match.op, reply.status, reply.body));
      return { op, ...reply, ...(headers ? { headers } : {}) };
    };
    const auth = req.headers.authorization ?? "";
    if (!/^Bearer /.test(auth)) {
      return unauthorized("(challenge)", "AKV10000: Request is missing a Bearer or PoP token.", {
        "www-authenticate": `Bearer authorization="${opts.authority}/${opts.tenantId}", resource="https://vault.azure.net"`,
      });
    }
    const claims = decodeJwt(auth.slice(7))?.payload;
    if (claims?.aud !== "https://vault.azure.net") {
      return unauthorized(
        "(auth)",
        `AKV10022: Invalid audience. Expected https://vault.azure.net, found: ${claims?.aud}.`,
      );
    }
    const body = raw ? JSON.parse(raw) : undefined;
    const query = Object.fromEntries(url.searchParams);
    const problems = catalog.validateRequest(match, { query, headers: req.headers, body });
    if (problems.length) {
      mismatches.push(...problems);
      return { op: match.op.operationId, ...error(400, "BadParameter", problems.join("; ")) };
    }
    const op = match.op.operationId;
    const name = match.params["key-name"] ?? match.params["certificate-name"] ?? "";
    const key = opts.keys[name];
    const reply = (() => {
      if (!key)
        return error(
          404,
          op === "GetCertificate" ? "CertificateNotFound" : "KeyNotFound",
          `A key with (name/id) ${name} was not found in this key vault.`,
        );
      const kid = `${base}/keys/${name}/${VERSION}`;
      if (op === "GetKey") return { status: 200, body: keyBundle(kid, key.privateKey) };
      if (op === "GetCertificate") {
        if (!key.certificate)
          return error(
            404,
            "CertificateNotFound",
            `A certificate with (name/id) ${name} was not found in this key vault.`,
          );
        return {
          status: 200,
          body: {
            id: `${base}/certificates/${name}/${VERSION}`,
            kid,
            sid: `${base}/secrets/${name}/${VERSION}`,
            x5t: createHash("sha1").update(key.certificate).digest("base64url"),
            cer: key.certificate.toString("base64"),
            contentType: "application/x-pem-file",
            attributes: {
              enabled: true,
              created: 1700000000,
              updated: 1700000000,
              recoveryLevel: "Recoverable+Purgeable",
            },
          },
        };
      }
      // Sign
      if (opts.forbidSign?.includes(name)) {
        return error(
          403,
          "Forbidden",
          `Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/keys/sign/action' Resource: '/keys/${name}'.`,
        );
      }
      const { alg, value } = body as { alg: string; value: string };
      const digest = Buffer.from(value, "base64url");
      const result = signDigest(alg, key.privateKey, digest);
      if (!result) return error(400, "BadParameter", `Invalid algorithm ${alg} for key type.`);
      signs[name] = (signs[name] ?? 0) + 1;
      return { status: 200, body: { kid, value: result.toString("base64url") } };
    })();
    mismatches.push(...catalog.validateResponse(match.op, reply.status, reply.body));
    return { op, ...reply };
  };

  const server = createServer(
    { cert: tls.cert, key: tls.key },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r = handle(req, Buffer.concat(chunks).toString("utf8"));
        requests.push({
          method: req.method ?? "GET",
          path: req.url ?? "",
          operationId: r.op,
          status: r.status,
        });
        res.writeHead(r.status, {
          "content-type": "application/json; charset=utf-8",
          "x-ms-request-id": randomUUID(),
          ...r.headers,
        });
        res.end(r.body === undefined ? "" : JSON.stringify(r.body));
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `https://${host}`;
  const caFile = join(mkdtempSync(join(tmpdir(), "kv-fake-")), "ca.pem");
  writeFileSync(caFile, tls.cert);
  return {
    url: base,
    host,
    ca: tls.cert,
    caFile,
    requests,
    mismatches,
    signs,
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function keyBundle(kid: string, privateKey: KeyObject) {
  const jwk = privateKey.export({ format: "jwk" });
  const isRsa = jwk.kty === "RSA";
  return {
    key: isRsa
      ? { kid, kty: "RSA-HSM", key_ops: ["sign", "verify"], n: jwk.n, e: jwk.e }
      : { kid, kty: "EC-HSM", key_ops: ["sign", "verify"], crv: jwk.crv, x: jwk.x, y: jwk.y },
    attributes: {
      enabled: true,
      created: 1700000000,
      updated: 1700000000,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
      exportable: false,
    },
    tags: {},
  };
}

/**
 * Key Vault's sign: the caller hashed, the service signs the digest as given. Node only signs messages
 * (it hashes them itself), so the primitives run here on the digest: EMSA-PSS (salt = hash length) or
 * PKCS#1 v1.5 DigestInfo encoding with the raw RSA private-key operation, and ECDSA with the curve
 * point k·G from ECDH; ECDSA comes back as raw r‖s, as Key Vault returns it.
 */
function signDigest(alg: string, key: KeyObject, digest: Buffer): Buffer | undefined {
  const bits = alg.slice(2);
  const hashLen = { "256": 32, "384": 48, "512": 64 }[bits];
  if (!hashLen || digest.length !== hashLen) return undefined;
  const hash = `sha${bits}`;
  const type = key.asymmetricKeyType;
  if (alg.startsWith("ES") && type === "ec") return ecdsaSignDigest(key, digest);
  if (type !== "rsa") return undefined;
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  if (alg.startsWith("RS")) {
    const prefix = DIGEST_INFO[hash]!;
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, digest]));
  }
  if (!alg.startsWith("PS")) return undefined;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hashLen);
  const h = createHash(hash)
    .update(Buffer.concat([Buffer.alloc(8), digest, salt]))
    .digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hashLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hashLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modBits / 8);
  return privateEncrypt(
    { key, padding: constants.RSA_NO_PADDING },
    Buffer.concat([Buffer.alloc(k - emLen), em]),
  );
}

const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let c = 0; out.length * seed.length < length; c++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(c);
    out.push(
      createHash(hash)
        .update(Buffer.concat([seed, counter]))
        .digest(),
    );
  }
  return Buffer.concat(out).subarray(0, length);
}

const CURVES: Record<string, { name: string; n: bigint; bytes: number }> = {
  "P-256": {
    name: "prime256v1",
    n: BigInt("0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
    bytes: 32,
  },
  "P-384": {
    name: "secp384r1",
    n: BigInt(
      "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    ),
    bytes: 48,
  },
};

function ecdsaSignDigest(key: KeyObject, digest: Buffer): Buffer | undefined {
  const jwk = key.export({ format: "jwk" });
  const curve = CURVES[jwk.crv ?? ""];
  if (!curve) return undefined;
  const { n, bytes } = curve;
  const toBig = (b: Buffer) => BigInt(`0x${b.toString("hex") || "0"}`);
  const d = toBig(Buffer.from(jwk.d!, "base64url"));
  const e = toBig(digest.subarray(0, bytes));
  for (;;) {
    const k = (toBig(randomBytes(bytes + 8)) % (n - 1n)) + 1n;
    const ecdh = createECDH(curve.name);
    ecdh.setPrivateKey(Buffer.from(k.toString(16).padStart(bytes * 2, "0"), "hex"));
    const point = ecdh.getPublicKey(); // 0x04 || x || y
    const r = toBig(point.subarray(1, 1 + bytes)) % n;
    if (r === 0n) continue;
    const s = (modInverse(k, n) * ((e + r * d) % n)) % n;
    if (s === 0n) continue;
    const hex = (v: bigint) => Buffer.from(v.toString(16).padStart(bytes * 2, "0"), "hex");
    return Buffer.concat([hex(r), hex(s)]);
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}
