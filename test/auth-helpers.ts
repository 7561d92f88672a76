/** A local identity provider for the auth tests: a JWKS endpoint on 127.0.0.1 and key pairs to sign with. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'PS256';
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid: string, alg: SigningKey['alg'] = 'RS256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

/** Signs `claims` as given (no defaults added): tests decide every claim, iat and exp included. */
export async function signWith(
  key: SigningKey,
  claims: JWTPayload,
  header: { kid?: string | null } = {},
): Promise<string> {
  const kid = header.kid === undefined ? key.kid : header.kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }) })
    .sign(key.privateKey);
}

export const now = (): number => Math.floor(Date.now() / 1000);

/** A JWKS endpoint whose key list the test changes at will; counts the fetches it answers. */
export class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;
  /** When set, the endpoint answers with this status and no key set. */
  failWith: number | null = null;
  private server: http.Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      if (req.url !== '/realms/pfa/protocol/openid-connect/certs') {
        res.writeHead(404).end();
        return;
      }
      this.fetches += 1;
      if (this.failWith !== null) {
        res.writeHead(this.failWith).end('unavailable');
        return;
      }
      const body = JSON.stringify({ keys: this.keys.map((k) => k.jwk) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/realms/pfa/protocol/openid-connect/certs`;
    return this;
  }

  get issuer(): string {
    return this.url.replace('/protocol/openid-connect/certs', '');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
