import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JWTPayload } from 'jose';
import { createTokenVerifier, type TokenVerifierOptions } from '../src/auth/tokens.js';
import { DomainError } from '../src/domain/errors.js';
import { JwksServer, makeKey, now, signWith, type SigningKey } from './auth-helpers.js';

/**
 * DOMAIN §5 / issue 10.3: RS256/ES256 tokens verified against a JWKS served over HTTP on
 * 127.0.0.1 — key rotation, jose's cache (refetch on an unknown kid, at most once per cooldown),
 * a removed key, an unreachable provider, and token shapes of Keycloak, Entra ID and Auth0.
 */

const RULES = {
  orgsClaim: 'orgs',
  roleClaim: 'role',
  maxLifetimeSeconds: 604_800,
  clockToleranceSeconds: 60,
};

let idp: JwksServer;
let keyA: SigningKey;
let keyB: SigningKey;
let keyC: SigningKey;
let keyEc: SigningKey;
let keyPs: SigningKey;

beforeAll(async () => {
  idp = await new JwksServer().start();
  [keyA, keyB, keyC, keyEc, keyPs] = await Promise.all([
    makeKey('key-a'),
    makeKey('key-b'),
    makeKey('key-c'),
    makeKey('key-ec', 'ES256'),
    makeKey('key-ps', 'PS256'),
  ]);
});
afterAll(() => idp.stop());

const claims = (over: JWTPayload = {}): JWTPayload => ({
  sub: 'user-1',
  orgs: ['HOLNG'],
  role: 'editor',
  iat: now(),
  exp: now() + 3600,
  ...over,
});

function verifier(options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ ...RULES, jwksUrl: idp.url, ...options });
}

async function outcome(v: { verify(a: string): Promise<unknown> }, token: string): Promise<unknown> {
  return v.verify(`Bearer ${token}`).then(
    (p) => p,
    (e: unknown) => (e instanceof DomainError ? `${e.code}: ${e.message}` : e),
  );
}

describe('JWKS verification', () => {
  it('accepts RS256 and ES256 from the key set; refuses HS256 (no secret), PS256 and strangers', async () => {
    idp.keys = [keyA, keyEc, keyPs];
    const v = verifier({ jwks: { cooldownMs: 0 } });
    expect(await outcome(v, await signWith(keyA, claims()))).toEqual({
      userId: 'user-1',
      orgs: ['HOLNG'],
      role: 'editor',
    });
    expect(await outcome(v, await signWith(keyEc, claims({ role: 'viewer' })))).toMatchObject({
      role: 'viewer',
    });
    expect(await outcome(v, await signWith(keyPs, claims()))).toMatch(
      /^UNAUTHENTICATED: .*PS256 is not accepted/,
    );
    // A key the set does not hold, under a kid it does hold: the signature check fails.
    expect(await outcome(v, await signWith(keyB, claims(), { kid: 'key-a' }))).toMatch(/^UNAUTHENTICATED/);
    // HS256 "signed" with the public key's modulus (the classic alg confusion) is not accepted.
    const { SignJWT } = await import('jose');
    const confused = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'key-a' })
      .sign(new TextEncoder().encode(JSON.stringify(keyA.jwk)));
    expect(await outcome(v, confused)).toMatch(/^UNAUTHENTICATED: .*HS256 is not accepted/);
    // No kid: the single RS256 key of the set is used.
    idp.keys = [keyA];
    const fresh = verifier();
    expect(await outcome(fresh, await signWith(keyA, claims(), { kid: null }))).toMatchObject({
      userId: 'user-1',
    });
  });

  it('refuses the probes through the JWKS path too: exp = 1e20, iat in the future, NUL in sub or orgs', async () => {
    idp.keys = [keyA];
    const v = verifier();
    expect(await outcome(v, await signWith(keyA, claims({ exp: 1e20 })))).toMatch(/maximum token lifetime/);
    expect(await outcome(v, await signWith(keyA, claims({ iat: now() + 600, exp: now() + 4000 })))).toMatch(
      /iat lies in the future/,
    );
    expect(await outcome(v, await signWith(keyA, claims({ sub: 'user\u0000' })))).toMatch(/sub contains/);
    expect(await outcome(v, await signWith(keyA, claims({ orgs: ['HOL\u0000NG'] })))).toMatch(/orgs\[0\]/);
  });
});

describe('key rotation and jose’s JWKS cache', () => {
  it('refetches on an unknown kid: a key published later is accepted', async () => {
    idp.keys = [keyA];
    const v = verifier({ jwks: { cooldownMs: 0 } });
    const before = idp.fetches;
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    expect(idp.fetches - before).toBe(1);
    // Cached: a second token with a known kid needs no fetch.
    expect(await outcome(v, await signWith(keyA, claims({ sub: 'user-2' })))).toMatchObject({
      userId: 'user-2',
    });
    expect(idp.fetches - before).toBe(1);
    // The provider rotates: B is published next to A.
    idp.keys = [keyA, keyB];
    expect(await outcome(v, await signWith(keyB, claims()))).toMatchObject({ userId: 'user-1' });
    expect(idp.fetches - before).toBe(2);
  });

  it('a removed key is refused once the set has been refetched', async () => {
    idp.keys = [keyA, keyB];
    const v = verifier({ jwks: { cooldownMs: 0 } });
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    // A is withdrawn, C is new. A token under C makes jose refetch; A is then gone.
    idp.keys = [keyB, keyC];
    expect(await outcome(v, await signWith(keyC, claims()))).toMatchObject({ userId: 'user-1' });
    expect(await outcome(v, await signWith(keyA, claims()))).toMatch(
      /^UNAUTHENTICATED: token signed with an unknown key/,
    );
    expect(await outcome(v, await signWith(keyB, claims()))).toMatchObject({ userId: 'user-1' });
  });

  it('within the cooldown an unknown kid does not refetch (random kids cannot hammer the provider)', async () => {
    idp.keys = [keyA];
    const v = verifier(); // jose defaults: cooldown 30 s, cache 10 min
    const before = idp.fetches;
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    for (let i = 0; i < 25; i += 1)
      expect(await outcome(v, await signWith(keyB, claims(), { kid: `random-${i}` }))).toMatch(
        /^UNAUTHENTICATED: token signed with an unknown key/,
      );
    expect(idp.fetches - before).toBe(1);
    // The flip side, documented: a withdrawn key stays valid until the cache is refreshed
    // (10 minutes, or the next refetch after the cooldown).
    idp.keys = [keyB];
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    expect(idp.fetches - before).toBe(1);
  });

  it('an expired cache is refreshed before use', async () => {
    idp.keys = [keyA];
    const v = verifier({ jwks: { cacheMaxAgeMs: 0, cooldownMs: 60_000 } });
    const before = idp.fetches;
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    idp.keys = [keyB];
    expect(await outcome(v, await signWith(keyA, claims()))).toMatch(/^UNAUTHENTICATED/);
    expect(await outcome(v, await signWith(keyB, claims()))).toMatchObject({ userId: 'user-1' });
    expect(idp.fetches - before).toBe(3);
  });

  it('concurrent tokens under a new kid share one fetch (repeated 10 times)', async () => {
    for (let round = 0; round < 10; round += 1) {
      const fresh = await makeKey(`concurrent-${round}`, round % 2 ? 'ES256' : 'RS256');
      idp.keys = [keyA];
      const v = verifier({ jwks: { cooldownMs: 0 } });
      expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
      idp.keys = [keyA, fresh];
      const before = idp.fetches;
      const tokens = await Promise.all(
        Array.from({ length: 20 }, (_, i) => signWith(fresh, claims({ sub: `u${i}` }))),
      );
      const results = await Promise.all(tokens.map((t) => outcome(v, t)));
      results.forEach((r, i) => expect(r).toMatchObject({ userId: `u${i}` }));
      expect(idp.fetches - before).toBe(1);
    }
  });
});

describe('an unreachable identity provider', () => {
  it('is SERVICE_UNAVAILABLE (retryable), not a verdict on the token; the cache keeps serving', async () => {
    idp.keys = [keyA];
    const v = verifier({ jwks: { cooldownMs: 0 } });
    expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
    idp.failWith = 503;
    try {
      // Known kid: served from the cache although the provider is down.
      expect(await outcome(v, await signWith(keyA, claims()))).toMatchObject({ userId: 'user-1' });
      // Unknown kid: a refetch is needed and fails.
      const e = await v.verify(`Bearer ${await signWith(keyB, claims())}`).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('SERVICE_UNAVAILABLE');
      expect((e as DomainError).details).toEqual({ retryable: true });
    } finally {
      idp.failWith = null;
    }
    const down = createTokenVerifier({ ...RULES, jwksUrl: 'http://127.0.0.1:9/certs' });
    const e = await down.verify(`Bearer ${await signWith(keyA, claims())}`).catch((err: unknown) => err);
    expect((e as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    // A token that is not even a JWT never reaches the provider.
    expect(await outcome(down, 'garbage')).toMatch(/^UNAUTHENTICATED/);
  });
});

describe('identity-provider token shapes', () => {
  it('Keycloak: realm_access.roles and a custom orgs claim, issuer and audience checked', async () => {
    idp.keys = [keyA, keyEc];
    const v = verifier({
      orgsClaim: 'pfa_orgs',
      roleClaim: 'realm_access.roles',
      issuer: idp.issuer,
      audience: ['pfa-vanguard'],
    });
    const keycloak = (over: JWTPayload = {}) =>
      claims({
        role: undefined,
        orgs: undefined,
        sub: 'f3c1a6f2-6a0e-4a4b-9d55-0c1f0b8f6f4e',
        iss: idp.issuer,
        aud: ['pfa-vanguard', 'account'],
        azp: 'pfa-web',
        typ: 'Bearer',
        scope: 'openid profile email',
        preferred_username: 'jdoe',
        realm_access: {
          roles: ['offline_access', 'default-roles-pfa', 'uma_authorization', 'editor', 'viewer'],
        },
        resource_access: { account: { roles: ['manage-account'] } },
        pfa_orgs: ['HOLNG', 'ORG2'],
        ...over,
      });
    expect(await outcome(v, await signWith(keyA, keycloak()))).toEqual({
      userId: 'f3c1a6f2-6a0e-4a4b-9d55-0c1f0b8f6f4e',
      orgs: ['HOLNG', 'ORG2'],
      role: 'editor',
    });
    expect(
      await outcome(v, await signWith(keyEc, keycloak({ realm_access: { roles: ['admin', 'viewer'] } }))),
    ).toMatchObject({ role: 'admin' });
    for (const bad of [
      keycloak({ realm_access: { roles: ['offline_access', 'uma_authorization'] } }),
      keycloak({ realm_access: 'editor' }),
      keycloak({ realm_access: undefined, role: 'admin' }),
      keycloak({ pfa_orgs: 'HOLNG' }),
      keycloak({ pfa_orgs: ['HOLNG', { id: 'ORG2' }] }),
      keycloak({ iss: 'http://127.0.0.1:1/realms/other' }),
      keycloak({ aud: 'account' }),
    ])
      expect(await outcome(v, await signWith(keyA, bad))).toMatch(/^UNAUTHENTICATED/);
    // Client roles: resource_access.<client-id>.roles.
    const clientRoles = verifier({ orgsClaim: 'pfa_orgs', roleClaim: 'resource_access.pfa-vanguard.roles' });
    expect(
      await outcome(
        clientRoles,
        await signWith(keyA, keycloak({ resource_access: { 'pfa-vanguard': { roles: ['viewer'] } } })),
      ),
    ).toMatchObject({ role: 'viewer' });
  });

  it('Entra ID: app roles in `roles`, a directory-extension claim with a dot in its name', async () => {
    idp.keys = [keyA];
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const v = verifier({
      orgsClaim: 'extn.pfaOrgs',
      roleClaim: 'roles',
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
    });
    const entra = claims({
      role: undefined,
      orgs: undefined,
      iss: `https://login.microsoftonline.com/${tenant}/v2.0`,
      aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
      tid: tenant,
      oid: '00000000-0000-0000-66f3-3332eca7ea81',
      sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      roles: ['viewer'],
      'extn.pfaOrgs': ['HOLNG'],
      ver: '2.0',
    });
    expect(await outcome(v, await signWith(keyA, entra))).toEqual({
      userId: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      orgs: ['HOLNG'],
      role: 'viewer',
    });
    // Entra group object ids (36 characters) are not organization codes.
    expect(await outcome(v, await signWith(keyA, { ...entra, 'extn.pfaOrgs': [tenant] }))).toMatch(
      /extn.pfaOrgs\[0\]/,
    );
  });

  it('Auth0: namespaced custom claims (URLs as claim names), an audience array', async () => {
    idp.keys = [keyA];
    const v = verifier({
      orgsClaim: 'https://pfa.example.com/orgs',
      roleClaim: 'https://pfa.example.com/roles',
      issuer: 'https://example.eu.auth0.com/',
      audience: 'https://api.pfa.example.com',
    });
    const auth0 = claims({
      role: undefined,
      orgs: undefined,
      iss: 'https://example.eu.auth0.com/',
      sub: 'auth0|64b7f0c2a1b2c3d4e5f6a7b8',
      aud: ['https://api.pfa.example.com', 'https://example.eu.auth0.com/userinfo'],
      azp: 'ZYDPLLBWSK3MVQJSIYHB1OR2JXCY0X2C5',
      scope: 'openid profile',
      'https://pfa.example.com/orgs': ['HOLNG', 'ORG3'],
      'https://pfa.example.com/roles': ['viewer', 'editor'],
    });
    expect(await outcome(v, await signWith(keyA, auth0))).toEqual({
      userId: 'auth0|64b7f0c2a1b2c3d4e5f6a7b8',
      orgs: ['HOLNG', 'ORG3'],
      role: 'editor',
    });
    expect(
      await outcome(v, await signWith(keyA, { ...auth0, aud: 'https://example.eu.auth0.com/userinfo' })),
    ).toMatch(/^UNAUTHENTICATED: token claim aud/);
  });
});
