import { describe, expect, it, jest } from '@jest/globals';
import { createTokenVerifier, signToken } from '../src/auth/tokens.js';

/** HS256 tokens are verified once and then answered from a cache until exp (src/auth/tokens.ts). */

describe('verified HS256 tokens', () => {
  const SECRET = 'grid-path-secret-grid-path-secret';
  const rules = { orgsClaim: 'orgs', roleClaim: 'role', maxLifetimeSeconds: 3600, clockToleranceSeconds: 0 };

  it('checks a token’s signature once, then answers from the cache until exp', async () => {
    const verify = jest.spyOn(globalThis.crypto.subtle, 'verify');
    try {
      const verifier = createTokenVerifier({ ...rules, hsSecret: SECRET });
      const token = await signToken(SECRET, { sub: 'u1', orgs: ['HOLNG'], role: 'viewer' }, 1);
      const first = await verifier.verify(`Bearer ${token}`);
      const calls = verify.mock.calls.length;
      expect(calls).toBeGreaterThan(0);
      expect(await verifier.verify(`Bearer ${token}`)).toEqual(first);
      expect(verify.mock.calls.length).toBe(calls);
      expect(Object.isFrozen(first) && Object.isFrozen(first.orgs)).toBe(true);
      // A cached token still expires at exp (tolerance 0): jose decides again, and refuses.
      await new Promise((r) => setTimeout(r, 2_100));
      await expect(verifier.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      // Another token with the same claims but a broken signature is never taken from the cache.
      const forged = `${token.slice(0, -4)}AAAA`;
      await expect(verifier.verify(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      const uncached = createTokenVerifier({ ...rules, hsSecret: SECRET, verifiedCacheSize: 0 });
      const fresh = await signToken(SECRET, { sub: 'u1', orgs: ['HOLNG'], role: 'viewer' }, 60);
      const before = verify.mock.calls.length;
      await uncached.verify(`Bearer ${fresh}`);
      await uncached.verify(`Bearer ${fresh}`);
      expect(verify.mock.calls.length - before).toBe(2);
    } finally {
      verify.mockRestore();
    }
  });
});
