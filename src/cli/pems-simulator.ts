/**
 * Runs the in-memory PEMS simulator (src/pems/simulator.ts) for development and demos:
 *   npm run pems:simulator -- --port 4010 --orgs 12 --records 100000 [--host 127.0.0.1] [--api-key KEY]
 * Then point the service at it with PEMS_URL=<printed URL> (and PEMS_API_KEY=KEY when set).
 */
import { MAX_ORGANIZATIONS } from '../domain/generator.js';
import { startPemsSimulator } from '../pems/simulator.js';
import { UsageError, parseFlags, parseOrExit } from './args.js';

const USAGE = `usage: npm run pems:simulator -- [--port 4010] [--host 127.0.0.1] [--orgs 12] [--records 100000] [--api-key KEY]`;

function integerFlag(
  values: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n =
    typeof raw === 'string' && /^[0-9]+$/.test(raw.replace(/_/g, '')) ? Number(raw.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parse(argv: string[]): {
  port: number;
  host: string;
  orgs: number;
  records: number;
  apiKey?: string;
} {
  const values = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    orgs: { type: 'string' },
    records: { type: 'string' },
    'api-key': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const apiKey = values['api-key'];
  if (apiKey === '') throw new UsageError('--api-key must not be empty');
  return {
    port: integerFlag(values, 'port', 0, 65_535, 4010),
    host: typeof values.host === 'string' && values.host !== '' ? values.host : '127.0.0.1',
    orgs: integerFlag(values, 'orgs', 1, MAX_ORGANIZATIONS, 12),
    records: integerFlag(values, 'records', 0, 100_000_000, 100_000),
    ...(typeof apiKey === 'string' ? { apiKey } : {}),
  };
}

async function main(): Promise<void> {
  const options = parseOrExit('pems-simulator', USAGE, () => parse(process.argv.slice(2)));
  if (!options) return;
  const sim = await startPemsSimulator(options);
  const orgs = sim.organizations.map((o) => `${o.id} ${o.records}`).join(', ');
  console.log(`PEMS simulator listening on ${sim.url}`);
  console.log(`  ${options.records} records in ${sim.organizations.length} organizations: ${orgs}`);
  console.log(`  PEMS_URL=${sim.url}${options.apiKey ? ' (requests need x-api-key)' : ''}`);
  console.log(
    `  control: ${sim.url}/_sim/stats, /_sim/faults, /_sim/writes?since=N, /_sim/records/{org}/{pfaId}`,
  );

  let closing = false;
  const stop = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`pems-simulator: ${signal}, closing`);
    sim.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') console.error(`pems-simulator: port already in use (${err.message})`);
  else console.error('pems-simulator:', e);
  process.exit(1);
});
