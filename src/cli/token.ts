/** npm run token -- --sub ID --orgs A,B --role editor [--expires 12h] — signs a development token. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ORGANIZATION_CODE, ROLES, parseLifetime, signToken, type Role } from '../auth/tokens.js';
import { loadConfig } from '../config.js';

const usage =
  'usage: npm run token -- --sub USER --orgs HOLNG,ORG2 --role viewer|editor|admin [--expires 12h]\n' +
  '  --expires  seconds or a duration (90m, 12h, 7d), at most AUTH_MAX_TOKEN_LIFETIME (default 7d)';
try {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      orgs: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
    },
  });
  const config = loadConfig();
  const problems: string[] = [];
  if (!values.sub) problems.push('--sub is required');
  else if (/[\u0000-\u001f\u007f-\u009f]/.test(values.sub) || values.sub.length > 200)
    problems.push('--sub must be 1–200 characters without control characters');
  const orgs = (values.orgs ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!values.orgs) problems.push('--orgs is required (comma-separated organization codes)');
  const badOrgs = orgs.filter((o) => !ORGANIZATION_CODE.test(o));
  if (badOrgs.length)
    problems.push(
      `--orgs: ${badOrgs.map((o) => JSON.stringify(o)).join(', ')} not an organization code (${ORGANIZATION_CODE.source})`,
    );
  if (!values.role || !ROLES.includes(values.role as Role))
    problems.push(`--role must be one of ${ROLES.join(', ')}`);
  const lifetime = parseLifetime(values.expires ?? '12h');
  if (lifetime === null) problems.push('--expires must be seconds or a duration such as 90m, 12h, 7d');
  else if (lifetime > config.AUTH_MAX_TOKEN_LIFETIME)
    problems.push(
      `--expires ${values.expires} is longer than AUTH_MAX_TOKEN_LIFETIME (${config.AUTH_MAX_TOKEN_LIFETIME} s): the service would refuse the token`,
    );
  if (problems.length) throw new Error(`${problems.join('; ')}\n${usage}`);
  const demoFile = path.join(config.DATA_DIR, 'jwt-secret');
  // The demo secret signs only what the service accepts: nothing, once a JWKS is configured.
  const secret =
    config.AUTH_JWT_SECRET ??
    (!config.AUTH_JWKS_URL && existsSync(demoFile) ? readFileSync(demoFile, 'utf8').trim() : undefined);
  if (!secret)
    throw new Error(
      config.AUTH_JWKS_URL
        ? 'AUTH_JWKS_URL is set and AUTH_JWT_SECRET is not: tokens come from the identity provider'
        : 'no AUTH_JWT_SECRET and no demo secret (start the service once with npm start)',
    );
  const token = await signToken(
    secret,
    { sub: values.sub as string, orgs, role: values.role as Role },
    lifetime as number,
  );
  process.stdout.write(`${token}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
