import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

/** STYLE §8: the environment is validated once, every bad variable reported in one message. */

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The variables a ConfigError message names, one per line ("  NAME: reason"). */
function named(error: ConfigError): string[] {
  return error.message
    .split('\n')
    .slice(1)
    .map((line) => /^ {2}([A-Z_]+|\(env\)):/.exec(line)?.[1] ?? `unparsed: ${line}`)
    .sort();
}

const PROD_OK = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: 'a-secret-of-at-least-16-chars',
  DATABASE_URL: 'postgres://app@db:5432/pfa',
};

describe('loadConfig', () => {
  it('reports every bad variable in one ConfigError', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'nope' });
    expect(error.name).toBe('ConfigError');
    expect(error.message.split('\n')[0]).toBe('invalid configuration:');
    expect(named(error)).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
  });

  it('reports bad numbers, ranges and enums together', () => {
    const error = configError({
      PORT: '70000',
      DB_POOL_MAX: '0',
      PEMS_RATE_LIMIT_PER_SECOND: '-1',
      NODE_ENV: 'staging',
      REDIS_URL: 'not a url',
      AUTH_JWT_SECRET: 'short',
    });
    expect(named(error)).toEqual([
      'AUTH_JWT_SECRET',
      'DB_POOL_MAX',
      'NODE_ENV',
      'PEMS_RATE_LIMIT_PER_SECOND',
      'PORT',
      'REDIS_URL',
    ]);
    expect(error.message).toContain('AUTH_JWT_SECRET: must be at least 16 characters');
  });

  it('has defaults (PORT 4000) and returns a frozen object', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 4000,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PEMS_TENANT: 'DEFAULT',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.AUTH_JWT_SECRET).toBeUndefined();
    // Every numeric setting has a usable default.
    for (const key of [
      'PEMS_RATE_LIMIT_PER_SECOND',
      'PEMS_TIMEOUT_MS',
      'DB_POOL_MAX',
      'STATEMENT_TIMEOUT_MS',
      'MAX_QUERY_COST',
      'BULK_UPDATE_MAX',
    ] as const) {
      expect({ key, positive: Number.isFinite(config[key]) && config[key] > 0 }).toEqual({
        key,
        positive: true,
      });
    }
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('an empty numeric variable counts as unset (as an empty URL does), not as 0', () => {
    // `PORT=` in an env file: z.coerce.number('') is 0, a random port, silently.
    const config = loadConfig({ PORT: '', KPI_REFRESH_INTERVAL_MS: '', DB_POOL_MAX: '' });
    expect([config.PORT, config.KPI_REFRESH_INTERVAL_MS, config.DB_POOL_MAX]).toEqual([4000, 300_000, 10]);
  });

  it('coerces numbers and treats empty URLs as unset', () => {
    const config = loadConfig({ PORT: '8080', DB_POOL_MAX: '25', DATABASE_URL: '', REDIS_URL: '  ' });
    expect([config.PORT, config.DB_POOL_MAX, config.DATABASE_URL, config.REDIS_URL]).toEqual([
      8080,
      25,
      undefined,
      undefined,
    ]);
  });

  it('reads process.env by default', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(loadConfig().PORT).toBe(4321);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  describe('production', () => {
    it('requires AUTH_JWT_SECRET (and DATABASE_URL)', () => {
      expect(named(configError({ NODE_ENV: 'production', DATABASE_URL: PROD_OK.DATABASE_URL }))).toEqual([
        'AUTH_JWT_SECRET',
      ]);
      expect(named(configError({ NODE_ENV: 'production' }))).toEqual(['AUTH_JWT_SECRET', 'DATABASE_URL']);
      expect(configError({ NODE_ENV: 'production', DATABASE_URL: PROD_OK.DATABASE_URL }).message).toContain(
        'AUTH_JWT_SECRET: is required when NODE_ENV=production',
      );
    });

    it('treats a blank DATABASE_URL as missing in production (it loads as undefined)', () => {
      const error = configError({ ...PROD_OK, DATABASE_URL: '   ' });
      expect(named(error)).toEqual(['DATABASE_URL']);
    });

    it('accepts a complete production environment', () => {
      expect(loadConfig(PROD_OK)).toMatchObject({
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: PROD_OK.AUTH_JWT_SECRET,
      });
    });

    it('does not require AUTH_JWT_SECRET outside production', () => {
      expect(loadConfig({ NODE_ENV: 'development' }).AUTH_JWT_SECRET).toBeUndefined();
      expect(loadConfig({ NODE_ENV: 'test' }).AUTH_JWT_SECRET).toBeUndefined();
    });

    it('reports the missing AUTH_JWT_SECRET together with a bad non-string variable', () => {
      // zod skips refinements (superRefine) once a field has an aborting issue (PORT=abc is NaN):
      // the production rule must be checked outside them or it silently drops out of the message.
      const error = configError({ NODE_ENV: 'production', DATABASE_URL: PROD_OK.DATABASE_URL, PORT: 'abc' });
      expect(named(error)).toEqual(['AUTH_JWT_SECRET', 'PORT']);
    });

    it('reports the missing AUTH_JWT_SECRET together with a bad enum', () => {
      const error = configError({
        NODE_ENV: 'production',
        DATABASE_URL: PROD_OK.DATABASE_URL,
        LOG_LEVEL: 'loud',
      });
      expect(named(error)).toEqual(['AUTH_JWT_SECRET', 'LOG_LEVEL']);
    });

    it('reports the missing AUTH_JWT_SECRET together with a bad URL', () => {
      const error = configError({ NODE_ENV: 'production', DATABASE_URL: 'nope' });
      expect(named(error)).toEqual(['AUTH_JWT_SECRET', 'DATABASE_URL']);
    });
  });
});
