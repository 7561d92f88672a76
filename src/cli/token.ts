/** npm run token -- --sub ID --orgs A,B --role editor [--expires 12h] — signs a development token. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, signToken, type Role } from '../auth/tokens.js';
import { loadConfig } from '../config.js';

const usage =
  'usage: npm run token -- --sub USER --orgs HOLNG,ORG2 --role viewer|editor|admin [--expires 12h]';
try {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      orgs: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
    },
  });
  const problems: string[] = [];
  if (!values.sub) problems.push('--sub is required');
  if (!values.orgs) problems.push('--orgs is required (comma-separated organization codes)');
  if (!values.role || !ROLES.includes(values.role as Role))
    problems.push(`--role must be one of ${ROLES.join(', ')}`);
  if (problems.length) throw new Error(`${problems.join('; ')}\n${usage}`);
  const config = loadConfig();
  const demoFile = path.join(config.DATA_DIR, 'jwt-secret');
  const secret =
    config.AUTH_JWT_SECRET ?? (existsSync(demoFile) ? readFileSync(demoFile, 'utf8').trim() : undefined);
  if (!secret)
    throw new Error('no AUTH_JWT_SECRET and no demo secret (start the service once with npm start)');
  const token = await signToken(
    secret,
    {
      sub: values.sub as string,
      orgs: (values.orgs as string)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      role: values.role as Role,
    },
    values.expires ?? '12h',
  );
  process.stdout.write(`${token}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
