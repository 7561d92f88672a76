import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { tokenVerifierFromConfig } from '../src/auth/tokens.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { DomainError } from '../src/domain/errors.js';

/** The identity-provider and metrics settings (issue 10.3/10.5): validation, defaults, and npm run token. */

const SECRET = 'config-test-secret-0123456789';
const run = promisify(execFile);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    // One name per variable, however many rules it broke.
    return [
      ...new Set(
        (e as Error).message
          .split('\n')
          .slice(1)
          .map((l) => /^ {2}([A-Z_]+):/.exec(l)?.[1] ?? l),
      ),
    ].sort();
  }
  return [];
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.AUTH_MAX_TOKEN_LIFETIME).toBe(604_800);
    expect(c.AUTH_CLOCK_TOLERANCE_SECONDS).toBe(60);
    expect(c.AUTH_ORGS_CLAIM).toBe('orgs');
    expect(c.AUTH_ROLE_CLAIM).toBe('role');
    expect(c.AUTH_JWKS_URL).toBeUndefined();
    expect(c.METRICS_PORT).toBeUndefined();
    expect(c.METRICS_TOKEN).toBeUndefined();
  });

  it('production needs AUTH_JWT_SECRET or AUTH_JWKS_URL', () => {
    const db = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db/pfa' };
    expect(problems(db)).toEqual(['AUTH_JWT_SECRET']);
    expect(
      problems({ ...db, AUTH_JWKS_URL: 'https://idp.example.com/realms/pfa/protocol/openid-connect/certs' }),
    ).toEqual([]);
    expect(problems({ ...db, AUTH_JWT_SECRET: SECRET })).toEqual([]);
    expect(problems({ ...db, AUTH_JWKS_URL: '  ' })).toEqual(['AUTH_JWT_SECRET']);
  });

  it('reports every bad identity-provider and metrics setting at once', () => {
    expect(
      problems({
        AUTH_JWKS_URL: 'ftp://idp.example.com/certs',
        AUTH_ORGS_CLAIM: 'realm_access..orgs',
        AUTH_ROLE_CLAIM: 'has space',
        AUTH_MAX_TOKEN_LIFETIME: '1e20',
        AUTH_CLOCK_TOLERANCE_SECONDS: '3600',
        METRICS_PORT: '70000',
        METRICS_TOKEN: 'short',
      }),
    ).toEqual([
      'AUTH_CLOCK_TOLERANCE_SECONDS',
      'AUTH_JWKS_URL',
      'AUTH_MAX_TOKEN_LIFETIME',
      'AUTH_ORGS_CLAIM',
      'AUTH_ROLE_CLAIM',
      'METRICS_PORT',
      'METRICS_TOKEN',
    ]);
    expect(problems({ AUTH_JWKS_URL: 'not a url' })).toEqual(['AUTH_JWKS_URL']);
    expect(problems({ AUTH_MAX_TOKEN_LIFETIME: '59' })).toEqual(['AUTH_MAX_TOKEN_LIFETIME']);
    expect(problems({ AUTH_ROLE_CLAIM: '.roles' })).toEqual(['AUTH_ROLE_CLAIM']);
  });

  it('accepts dotted paths and namespaced claim names', () => {
    const c = loadConfig({
      AUTH_ORGS_CLAIM: 'https://pfa.example.com/orgs',
      AUTH_ROLE_CLAIM: 'resource_access.pfa-vanguard.roles',
    });
    expect(c.AUTH_ORGS_CLAIM).toBe('https://pfa.example.com/orgs');
    expect(c.AUTH_ROLE_CLAIM).toBe('resource_access.pfa-vanguard.roles');
  });
});

describe('tokenVerifierFromConfig: HS256 only when a secret is set', () => {
  const hs = (secret: string) => {
    const t = Math.floor(Date.now() / 1000);
    return new SignJWT({ orgs: ['A'], role: 'viewer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setIssuedAt(t)
      .setExpirationTime(t + 60)
      .sign(new TextEncoder().encode(secret));
  };
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e as DomainError).code,
    );

  it('AUTH_JWT_SECRET signs; the demo (fallback) secret does not when AUTH_JWT_SECRET is set', async () => {
    const v = tokenVerifierFromConfig(loadConfig({ AUTH_JWT_SECRET: SECRET }), 'demo-secret-0123456789');
    expect(await code(v.verify(`Bearer ${await hs(SECRET)}`))).toBe('ok');
    expect(await code(v.verify(`Bearer ${await hs('demo-secret-0123456789')}`))).toBe('UNAUTHENTICATED');
  });

  it('demo mode (neither set): the fallback secret', async () => {
    const v = tokenVerifierFromConfig(loadConfig({}), 'demo-secret-0123456789');
    expect(await code(v.verify(`Bearer ${await hs('demo-secret-0123456789')}`))).toBe('ok');
  });

  it('AUTH_JWKS_URL without a secret: no HS256 at all, the fallback secret included', async () => {
    const v = tokenVerifierFromConfig(
      loadConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:9/certs' }),
      'demo-secret-0123456789',
    );
    expect(await code(v.verify(`Bearer ${await hs('demo-secret-0123456789')}`))).toBe('UNAUTHENTICATED');
  });
});

describe('npm run token', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pfa-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const token = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, AUTH_JWT_SECRET: SECRET, ...env },
    }).then(
      ({ stdout }) => ({ code: 0, stdout: stdout.trim(), stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );
  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

  it('signs up to AUTH_MAX_TOKEN_LIFETIME and refuses longer, bad codes, and a JWKS-only setup', async () => {
    const [ok, longest, tooLong, custom, badOrg, jwksOnly] = await Promise.all([
      token(['--sub', 'ops', '--orgs', 'HOLNG,ORG2', '--role', 'admin']),
      token(['--sub', 'ops', '--orgs', 'HOLNG', '--role', 'viewer', '--expires', '7d']),
      token(['--sub', 'ops', '--orgs', 'HOLNG', '--role', 'viewer', '--expires', '8d']),
      token(['--sub', 'ops', '--orgs', 'HOLNG', '--role', 'viewer', '--expires', '2h'], {
        AUTH_MAX_TOKEN_LIFETIME: '3600',
      }),
      token(['--sub', 'ops', '--orgs', 'HOLNG,BAD CODE', '--role', 'viewer']),
      token(['--sub', 'ops', '--orgs', 'HOLNG', '--role', 'viewer'], {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: 'https://idp.example.com/certs',
      }),
    ]);
    expect(ok.code).toBe(0);
    const c = claimsOf(ok.stdout);
    expect(c).toMatchObject({ sub: 'ops', orgs: ['HOLNG', 'ORG2'], role: 'admin' });
    expect((c.exp as number) - (c.iat as number)).toBe(12 * 3600);
    expect(longest.code).toBe(0);
    const l = claimsOf(longest.stdout);
    expect((l.exp as number) - (l.iat as number)).toBe(604_800);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/longer than AUTH_MAX_TOKEN_LIFETIME \(604800 s\)/);
    expect(custom.code).toBe(2);
    expect(custom.stderr).toMatch(/AUTH_MAX_TOKEN_LIFETIME \(3600 s\)/);
    expect(badOrg.code).toBe(2);
    expect(badOrg.stderr).toMatch(/"BAD CODE" not an organization code/);
    expect(jwksOnly.code).toBe(2);
    expect(jwksOnly.stderr).toMatch(/tokens come from the identity provider/);
  }, 120_000);

  it('uses the demo secret from DATA_DIR when nothing is configured', async () => {
    writeFileSync(path.join(dir, 'jwt-secret'), 'demo-secret-from-file-0123\n');
    const r = await token(['--sub', 'ops', '--orgs', 'HOLNG', '--role', 'viewer'], { AUTH_JWT_SECRET: '' });
    expect(r.code).toBe(0);
    const v = tokenVerifierFromConfig(loadConfig({}), 'demo-secret-from-file-0123');
    await expect(v.verify(`Bearer ${r.stdout}`)).resolves.toMatchObject({ userId: 'ops', role: 'viewer' });
  }, 60_000);
});
