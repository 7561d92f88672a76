import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, type JWTPayload } from 'jose';
import { insertRecords } from './helpers/fixtures.js';
import { TEST_SECRET, startTestApp, type TestApp } from './helpers/app.js';
import { JwksServer, makeKey, now, signWith, type SigningKey } from './auth-helpers.js';

/**
 * Issue 10 (points 2 and 3), replayed against a running server: the token probes that used to be
 * accepted (exp = 1e20, iat in the future) or answered INTERNAL_SERVER_ERROR (NUL in sub or orgs,
 * PostgreSQL 22021) are UNAUTHENTICATED; a Keycloak-configured service takes RS256/ES256 tokens
 * from its JWKS and no locally signed HS256 token.
 */

const hs = (claims: JWTPayload) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(TEST_SECRET));

const COUNT = '{ pfaRecords(organizationId: "HOLNG", first: 1) { totalCount } }';

function expectUnauthenticated(r: {
  status: number;
  data?: unknown;
  errors?: { extensions?: Record<string, unknown> }[];
}) {
  expect(r.status).toBe(401);
  expect(r.data ?? null).toBeNull();
  expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
}

describe('HS256 service (AUTH_JWT_SECRET): the probes of issue 10', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await insertRecords(app.database.db, 'HOLNG', 3);
  });
  afterAll(() => app.close());

  const good = (over: JWTPayload = {}): JWTPayload => ({
    sub: 'probe-user',
    orgs: ['HOLNG'],
    role: 'editor',
    iat: now(),
    exp: now() + 3600,
    ...over,
  });

  it('a well-formed token still works', async () => {
    const r = await app.gql<{ pfaRecords: { totalCount: number } }>(COUNT, { token: await hs(good()) });
    expect(r.errors).toBeUndefined();
    expect(r.data?.pfaRecords.totalCount).toBe(3);
  });

  it('exp = 1e20 (a permanent token) → UNAUTHENTICATED', async () => {
    expectUnauthenticated(await app.gql(COUNT, { token: await hs(good({ exp: 1e20 })) }));
  });

  it('exp one day past the 7-day maximum lifetime → UNAUTHENTICATED', async () => {
    expectUnauthenticated(await app.gql(COUNT, { token: await hs(good({ exp: now() + 8 * 86_400 })) }));
  });

  it('iat in the future → UNAUTHENTICATED', async () => {
    expectUnauthenticated(
      await app.gql(COUNT, { token: await hs(good({ iat: now() + 3600, exp: now() + 7200 })) }),
    );
  });

  it('no iat → UNAUTHENTICATED', async () => {
    const { iat: _iat, ...noIat } = good();
    expectUnauthenticated(await app.gql(COUNT, { token: await hs(noIat) }));
  });

  it('NUL in sub (used to reach PostgreSQL as the session owner: 22021) → UNAUTHENTICATED', async () => {
    const r = await app.gql('{ drafts(organizationId: "HOLNG") { id } }', {
      token: await hs(good({ sub: 'probe\u0000user' })),
      session: 'probe-session',
    });
    expectUnauthenticated(r);
  });

  it('NUL in orgs (used to reach PostgreSQL as an organization id: 22021) → UNAUTHENTICATED', async () => {
    const r = await app.gql('query($org: ID!) { pfaRecords(organizationId: $org) { totalCount } }', {
      token: await hs(good({ orgs: ['HOLNG', 'HOL\u0000NG'] })),
      variables: { org: 'HOL\u0000NG' },
    });
    expectUnauthenticated(r);
  });

  it('organization codes outside ^[A-Za-z0-9_-]{1,32}$ and wrongly typed claims → UNAUTHENTICATED', async () => {
    for (const over of [
      { orgs: ['x'.repeat(33)] },
      { orgs: ["HOLNG' OR '1'='1"] },
      { orgs: 'HOLNG' },
      { orgs: [1] },
      { role: ['editor'] }, // an array is fine for the role claim…
    ]) {
      const r = await app.gql(COUNT, { token: await hs(good(over)) });
      if ('role' in over)
        expect(r.errors).toBeUndefined(); // …and maps to its highest role
      else expectUnauthenticated(r);
    }
    expectUnauthenticated(await app.gql(COUNT, { token: await hs(good({ role: 'root' })) }));
    expectUnauthenticated(
      await app.gql(COUNT, { token: await hs(good({ sub: 7 } as unknown as JWTPayload)) }),
    );
  });
});

describe('Keycloak-configured service (AUTH_JWKS_URL, no secret)', () => {
  let app: TestApp;
  let idp: JwksServer;
  let rsa: SigningKey;
  let ec: SigningKey;
  beforeAll(async () => {
    idp = await new JwksServer().start();
    [rsa, ec] = await Promise.all([makeKey('kc-rsa'), makeKey('kc-ec', 'ES256')]);
    idp.keys = [rsa, ec];
    app = await startTestApp({
      env: {
        AUTH_JWT_SECRET: '', // blank = unset: this service trusts its identity provider only
        AUTH_JWKS_URL: idp.url,
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: 'pfa-vanguard',
        AUTH_ORGS_CLAIM: 'pfa_orgs',
        AUTH_ROLE_CLAIM: 'realm_access.roles',
      },
    });
    await insertRecords(app.database.db, 'HOLNG', 2);
  });
  afterAll(async () => {
    await app.close();
    await idp.stop();
  });

  const keycloak = (roles: string[], over: JWTPayload = {}): JWTPayload => ({
    iss: idp.issuer,
    aud: ['pfa-vanguard', 'account'],
    sub: '5b0c3f3e-2a51-4d3e-8f0e-7a3f6c2b9d10',
    typ: 'Bearer',
    azp: 'pfa-web',
    iat: now(),
    exp: now() + 300,
    realm_access: { roles: ['offline_access', 'uma_authorization', ...roles] },
    pfa_orgs: ['HOLNG'],
    ...over,
  });

  it('reads with an RS256 viewer token and an ES256 editor token', async () => {
    for (const [key, roles] of [
      [rsa, ['viewer']],
      [ec, ['editor', 'viewer']],
    ] as const) {
      const r = await app.gql<{ pfaRecords: { totalCount: number } }>(COUNT, {
        token: await signWith(key, keycloak([...roles])),
      });
      expect(r.errors).toBeUndefined();
      expect(r.data?.pfaRecords.totalCount).toBe(2);
    }
  });

  it('maps realm roles to the highest known role: viewer may not refresh, admin may', async () => {
    const asViewer = await app.gql('mutation { refreshKpis(organizationId: "HOLNG") { jobId } }', {
      token: await signWith(rsa, keycloak(['viewer', 'default-roles-pfa'])),
    });
    expect(asViewer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const asAdmin = await app.gql('mutation { refreshKpis(organizationId: "HOLNG") { jobId } }', {
      token: await signWith(rsa, keycloak(['viewer', 'admin'])),
    });
    // Jobs are disabled in this test app: anything but FORBIDDEN shows the role was granted.
    expect(asAdmin.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('FORBIDDEN');
    expect(asAdmin.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('UNAUTHENTICATED');
  });

  it('an organization outside pfa_orgs is FORBIDDEN', async () => {
    const r = await app.gql('{ pfaRecords(organizationId: "ORG2") { totalCount } }', {
      token: await signWith(rsa, keycloak(['viewer'])),
    });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('an unreachable identity provider is SERVICE_UNAVAILABLE (retryable), never INTERNAL or a verdict on the token', async () => {
    const dead = new JwksServer();
    await dead.start();
    const deadUrl = dead.url;
    await dead.stop(); // nothing listens there any more
    const offline = await startTestApp({
      database: app.database,
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: deadUrl,
        AUTH_ORGS_CLAIM: 'pfa_orgs',
        AUTH_ROLE_CLAIM: 'realm_access.roles',
      },
    });
    try {
      const r = await offline.gql(COUNT, { token: await signWith(rsa, keycloak(['viewer'])) });
      expect(r.data ?? null).toBeNull();
      expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.retryable])).toEqual([
        ['SERVICE_UNAVAILABLE', true],
      ]);
      // A token that is no JWT at all is refused without asking the provider.
      expectUnauthenticated(await offline.gql(COUNT, { token: 'not-a-jwt' }));
    } finally {
      await offline.close();
    }
  });

  it('refuses HS256 (even with the old test secret), wrong issuer or audience, no known role, the probes', async () => {
    expectUnauthenticated(await app.gql(COUNT, { token: await app.token('admin') }));
    expectUnauthenticated(await app.gql(COUNT, { token: await hs(keycloak(['admin'])) }));
    const stranger = await makeKey('kc-rsa'); // same kid, another key
    for (const token of [
      await signWith(stranger, keycloak(['viewer'])),
      await signWith(rsa, keycloak(['viewer'], { iss: 'http://127.0.0.1:1/realms/evil' })),
      await signWith(rsa, keycloak(['viewer'], { aud: 'account' })),
      await signWith(rsa, keycloak(['offline_access'])),
      await signWith(rsa, keycloak(['viewer'], { exp: 1e20 })),
      await signWith(rsa, keycloak(['viewer'], { iat: now() + 3600, exp: now() + 7200 })),
      await signWith(rsa, keycloak(['viewer'], { sub: 'kc\u0000user' })),
      await signWith(rsa, keycloak(['viewer'], { pfa_orgs: ['HOLNG\u0000'] })),
      await signWith(rsa, keycloak(['viewer\u0000'])),
    ])
      expectUnauthenticated(await app.gql(COUNT, { token }));
  });
});
