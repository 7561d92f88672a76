import { describe, expect, it } from '@jest/globals';
import { SignJWT, type JWTPayload } from 'jose';
import {
  checkLifetime,
  orgsFrom,
  principalFromClaims,
  readClaim,
  roleFrom,
  type ClaimRules,
} from '../src/auth/claims.js';
import { createTokenVerifier, parseLifetime, signToken } from '../src/auth/tokens.js';
import { DomainError } from '../src/domain/errors.js';

/** DOMAIN §5: the claims of a verified token, and HS256 tokens end to end through the verifier. */

const RULES: ClaimRules = {
  orgsClaim: 'orgs',
  roleClaim: 'role',
  maxLifetimeSeconds: 604_800,
  clockToleranceSeconds: 60,
};
const NOW = 1_800_000_000;
const SECRET = 'claims-test-secret-0123456789';

function rejection(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('UNAUTHENTICATED');
    return e as DomainError;
  }
  throw new Error('accepted');
}

const base = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'u1',
  orgs: ['HOLNG'],
  role: 'viewer',
  iat: NOW - 10,
  exp: NOW + 3600,
  ...over,
});

describe('readClaim', () => {
  it('reads a claim name, a dotted path, and a namespaced name with dots literally first', () => {
    const payload = {
      role: 'admin',
      realm_access: { roles: ['editor'] },
      resource_access: { 'pfa-vanguard': { roles: ['viewer'] } },
      'https://pfa.example.com/orgs': ['A'],
      'extn.orgs': ['B'],
      extn: { orgs: ['C'] },
    };
    expect(readClaim(payload, 'role')).toBe('admin');
    expect(readClaim(payload, 'realm_access.roles')).toEqual(['editor']);
    expect(readClaim(payload, 'resource_access.pfa-vanguard.roles')).toEqual(['viewer']);
    expect(readClaim(payload, 'https://pfa.example.com/orgs')).toEqual(['A']);
    expect(readClaim(payload, 'extn.orgs')).toEqual(['B']);
    expect(readClaim(payload, 'realm_access.missing')).toBeUndefined();
    expect(readClaim(payload, 'role.length')).toBeUndefined();
    expect(readClaim({ a: [{ b: 1 }] }, 'a.0.b')).toBeUndefined();
    expect(readClaim({}, '__proto__.constructor')).toBeUndefined();
  });
});

describe('roleFrom', () => {
  it('maps a role string, and an array to its highest known role (unknown strings ignored)', () => {
    expect(roleFrom('editor', 'role')).toBe('editor');
    expect(roleFrom(['offline_access', 'viewer', 'uma_authorization'], 'r')).toBe('viewer');
    expect(roleFrom(['viewer', 'admin', 'editor'], 'r')).toBe('admin');
    expect(roleFrom(['editor', 'default-roles-pfa', 'viewer'], 'r')).toBe('editor');
  });

  it('refuses unknown, missing, wrongly typed and NUL-carrying roles', () => {
    rejection(() => roleFrom('superuser', 'role'));
    rejection(() => roleFrom('Admin', 'role'));
    rejection(() => roleFrom(undefined, 'role'));
    rejection(() => roleFrom(3, 'role'));
    rejection(() => roleFrom({ admin: true }, 'role'));
    rejection(() => roleFrom([], 'r'));
    rejection(() => roleFrom(['offline_access'], 'r'));
    rejection(() => roleFrom(['viewer', 7], 'r'));
    rejection(() => roleFrom('admin\u0000', 'role'));
    rejection(() => roleFrom(['admin', 'x\u0000'], 'r'));
    rejection(() =>
      roleFrom(
        Array.from({ length: 1001 }, () => 'viewer'),
        'r',
      ),
    );
  });
});

describe('orgsFrom', () => {
  it('accepts an array of organization codes (deduplicated), the empty array included', () => {
    expect(orgsFrom(['HOLNG', 'ORG_2', 'a-b', 'HOLNG'], 'orgs')).toEqual(['HOLNG', 'ORG_2', 'a-b']);
    expect(orgsFrom([], 'orgs')).toEqual([]);
    expect(orgsFrom(['x'.repeat(32)], 'orgs')).toEqual(['x'.repeat(32)]);
  });

  it.each([
    ['missing', undefined],
    ['a string', 'HOLNG'],
    ['an object', { HOLNG: true }],
    ['a number inside', ['HOLNG', 1]],
    ['NUL inside', ['HOL\u0000NG']],
    ['a trailing NUL', ['HOLNG\u0000']],
    ['too long a code', ['x'.repeat(33)]],
    ['an empty code', ['']],
    ['a space', ['HOL NG']],
    ['a comma list', ['HOLNG,ORG2']],
    ['SQL', ["HOLNG' OR '1'='1"]],
    ['a newline', ['HOLNG\n']],
    ['non-ASCII letters', ['HÖLNG']],
    ['more than 1000 codes', Array.from({ length: 1001 }, (_, i) => `O${i}`)],
  ])('refuses %s', (_what, value) => {
    rejection(() => orgsFrom(value, 'orgs'));
  });

  it('does not echo a bad value in the message', () => {
    const e = rejection(() => orgsFrom(['evil\u0000<script>'], 'orgs'));
    expect(e.message).not.toContain('evil');
    expect(e.message).toContain('orgs[0]');
  });
});

describe('checkLifetime', () => {
  const ok = (p: Record<string, unknown>) => checkLifetime(p, RULES, NOW);
  it('accepts iat up to the clock tolerance ahead and exp − iat up to the maximum lifetime', () => {
    expect(() => ok({ iat: NOW, exp: NOW + 604_800 })).not.toThrow();
    expect(() => ok({ iat: NOW + 60, exp: NOW + 3600 })).not.toThrow();
  });

  it.each([
    ['iat missing', { exp: NOW + 60 }],
    ['exp missing', { iat: NOW }],
    ['iat a string', { iat: String(NOW), exp: NOW + 60 }],
    ['exp a string', { iat: NOW, exp: String(NOW + 60) }],
    ['iat in the future', { iat: NOW + 61, exp: NOW + 3600 }],
    ['iat far in the future', { iat: NOW + 86_400 * 365, exp: NOW + 86_400 * 366 }],
    ['exp = 1e20', { iat: NOW, exp: 1e20 }],
    ['exp one second over the maximum lifetime', { iat: NOW, exp: NOW + 604_801 }],
    ['exp before iat', { iat: NOW, exp: NOW - 1 }],
    ['exp equal to iat', { iat: NOW, exp: NOW }],
    ['iat NaN-like (null)', { iat: null, exp: NOW + 60 }],
  ])('refuses %s', (_what, payload) => {
    rejection(() => ok(payload));
  });
});

describe('principalFromClaims', () => {
  it('builds the principal from the configured claims', () => {
    expect(principalFromClaims(base(), RULES, NOW)).toEqual({
      userId: 'u1',
      orgs: ['HOLNG'],
      role: 'viewer',
    });
    const keycloak = { ...RULES, orgsClaim: 'pfa_orgs', roleClaim: 'realm_access.roles' };
    expect(
      principalFromClaims(
        base({
          role: undefined,
          pfa_orgs: ['A', 'B'],
          realm_access: { roles: ['offline_access', 'editor'] },
        }),
        keycloak,
        NOW,
      ),
    ).toEqual({ userId: 'u1', orgs: ['A', 'B'], role: 'editor' });
  });

  it.each([
    ['NUL in sub', { sub: 'u\u00001' }],
    ['a control character in sub', { sub: 'u1\u001b[31m' }],
    ['an empty sub', { sub: '' }],
    ['a numeric sub', { sub: 42 }],
    ['a 201-character sub', { sub: 'x'.repeat(201) }],
    ['no sub', { sub: undefined }],
  ])('refuses %s', (_what, over) => {
    rejection(() => principalFromClaims(base(over), RULES, NOW));
  });
});

describe('HS256 through the verifier', () => {
  const verifier = createTokenVerifier({ ...RULES, hsSecret: SECRET });
  const hs = (claims: JWTPayload, secret = SECRET, alg = 'HS256') =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
  const t = () => Math.floor(Date.now() / 1000);
  const good = () => ({ sub: 'u1', orgs: ['HOLNG'], role: 'editor', iat: t(), exp: t() + 3600 });
  const refuse = async (authorization: string | undefined, message?: RegExp) => {
    const e = await verifier.verify(authorization).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('UNAUTHENTICATED');
    if (message) expect((e as DomainError).message).toMatch(message);
  };

  it('accepts a good token and what signToken makes', async () => {
    await expect(verifier.verify(`Bearer ${await hs(good())}`)).resolves.toEqual({
      userId: 'u1',
      orgs: ['HOLNG'],
      role: 'editor',
    });
    const signed = await signToken(SECRET, { sub: 'u2', orgs: ['A'], role: 'admin' }, '7d');
    await expect(verifier.verify(`bearer   ${signed}`)).resolves.toMatchObject({
      userId: 'u2',
      role: 'admin',
    });
  });

  it('refuses the probes: exp = 1e20, iat in the future, NUL in sub or orgs', async () => {
    await refuse(`Bearer ${await hs({ ...good(), exp: 1e20 })}`, /maximum token lifetime/);
    await refuse(`Bearer ${await hs({ ...good(), iat: t() + 3600, exp: t() + 7200 })}`, /iat/);
    await refuse(`Bearer ${await hs({ ...good(), sub: 'admin\u0000' })}`, /sub/);
    await refuse(`Bearer ${await hs({ ...good(), orgs: ['HOLNG\u0000'] })}`, /orgs\[0\]/);
  });

  it('refuses every other bad token', async () => {
    const { iat: _iat, ...noIat } = good();
    const { exp: _exp, ...noExp } = good();
    await refuse(undefined, /missing/);
    await refuse('', /missing/);
    await refuse('Basic dTpw', /Bearer/);
    await refuse('Bearer', /Bearer/);
    await refuse('Bearer a b', /Bearer/);
    await refuse('Bearer not-a-jwt');
    await refuse(`Bearer ${'a'.repeat(20_000)}`, /too long/);
    await refuse(`Bearer ${await hs(noIat)}`, /iat/);
    await refuse(`Bearer ${await hs(noExp)}`, /exp/);
    await refuse(`Bearer ${await hs({ ...good(), exp: t() - 3600, iat: t() - 7200 })}`, /expired/);
    await refuse(`Bearer ${await hs({ ...good(), nbf: t() + 3600 })}`, /nbf/);
    await refuse(`Bearer ${await hs(good(), 'another-secret-0123456789')}`);
    await refuse(`Bearer ${await hs(good(), SECRET, 'HS512')}`, /HS512 is not accepted/);
    await refuse(`Bearer ${await hs({ ...good(), role: 'root' })}`, /role/);
    await refuse(`Bearer ${await hs({ ...good(), orgs: 'HOLNG' })}`, /orgs/);
    await refuse(`Bearer ${await hs({ ...good(), orgs: ['x'.repeat(33)] })}`, /orgs/);
    // alg "none": an unsigned token with the same claims.
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(good())).toString('base64url')}.`;
    await refuse(`Bearer ${unsigned}`, /none is not accepted/);
    // A payload changed after signing.
    const [h, , s] = (await hs(good())).split('.');
    const forged = Buffer.from(JSON.stringify({ ...good(), role: 'admin' })).toString('base64url');
    await refuse(`Bearer ${h}.${forged}.${s}`);
  });

  it('checks issuer and audience when configured', async () => {
    const strict = createTokenVerifier({
      ...RULES,
      hsSecret: SECRET,
      issuer: 'https://idp.example.com/',
      audience: ['pfa-vanguard', 'pfa-api'],
    });
    const ok = { ...good(), iss: 'https://idp.example.com/', aud: ['account', 'pfa-api'] };
    await expect(strict.verify(`Bearer ${await hs(ok)}`)).resolves.toMatchObject({ userId: 'u1' });
    for (const bad of [
      { ...ok, iss: 'https://evil.example.com/' },
      { ...ok, iss: undefined },
      { ...ok, aud: 'account' },
      { ...ok, aud: undefined },
    ]) {
      const e = await strict.verify(`Bearer ${await hs(bad)}`).catch((err: unknown) => err);
      expect((e as DomainError).code).toBe('UNAUTHENTICATED');
    }
  });

  it('needs a secret or a JWKS', () => {
    expect(() => createTokenVerifier({ ...RULES })).toThrow(/secret or a JWKS/);
  });
});

describe('signToken and parseLifetime', () => {
  it('parses durations and refuses nonsense', () => {
    expect(parseLifetime('3600')).toBe(3600);
    expect(parseLifetime('90m')).toBe(5400);
    expect(parseLifetime('12h')).toBe(43_200);
    expect(parseLifetime('7d')).toBe(604_800);
    for (const bad of ['', '0', '-1', '1y', '1.5h', 'forever', '1e20']) expect(parseLifetime(bad)).toBeNull();
  });

  it('sets iat now and exp = iat + lifetime, and refuses bad organization codes', async () => {
    const token = await signToken(SECRET, { sub: 'u', orgs: ['HOLNG'], role: 'viewer' }, 604_800);
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<
      string,
      number
    >;
    expect(payload.exp! - payload.iat!).toBe(604_800);
    await expect(signToken(SECRET, { sub: 'u', orgs: ['BAD CODE'], role: 'viewer' })).rejects.toThrow(
      /organization code/,
    );
    await expect(signToken(SECRET, { sub: 'u', orgs: ['A'], role: 'viewer' }, '1y')).rejects.toThrow(
      /duration/,
    );
  });
});
