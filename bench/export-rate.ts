/**
 * npx tsx bench/export-rate.ts --database pfa_bench [--org HOLNG] [--format csv|ndjson]
 *                              [--fields a,b] [--runs 2] [--user U --session S]
 *
 * GET /export throughput and memory (issue 12 point 6): starts the API (src/main.ts,
 * NODE_ENV=production, no Redis, no background jobs) on an existing, prepared database (read
 * only: nothing is created, changed or dropped), streams the organization's whole export `runs`
 * times and prints, per run, rows/s, MB/s and the API process's RSS growth (VmRSS from /proc,
 * sampled every 20 ms: peak minus before) plus the load average. The client only counts line
 * ends, so its own cost stays small.
 */
import http from 'node:http';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signToken } from '../src/auth/tokens.js';
import { startApiProcess } from '../test/helpers/service-process.js';

const { values: args } = parseArgs({
  options: {
    database: { type: 'string', default: 'pfa_bench' },
    'database-host': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    org: { type: 'string', default: 'HOLNG' },
    format: { type: 'string', default: 'csv' },
    fields: { type: 'string' },
    runs: { type: 'string', default: '2' },
    user: { type: 'string', default: 'bench-export' },
    session: { type: 'string' },
  },
});

const SECRET = 'bench-export-secret-bench-export-secret';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const { api, baseUrl } = await startApiProcess({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: SECRET,
    DATABASE_URL: `${args['database-host']}/${args.database}`,
    DB_POOL_MAX: '4',
    WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
    READ_SYNC_INTERVAL_MS: '0',
  });
  try {
    const pid = api.child.pid as number;
    const token = await signToken(SECRET, { sub: args.user, orgs: [args.org], role: 'viewer' }, '1h');
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (args.session) headers['x-session-id'] = args.session;
    const params = new URLSearchParams({ organizationId: args.org, format: args.format });
    if (args.fields) params.set('fields', args.fields);

    const stream = (query: URLSearchParams) =>
      new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
        http
          .get(`${baseUrl}/export?${query.toString()}`, { headers }, (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              return reject(new Error(`HTTP ${res.statusCode}`));
            }
            let lines = 0;
            let bytes = 0;
            res.on('data', (chunk: Buffer) => {
              bytes += chunk.length;
              for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
            });
            res.on('end', () => resolve({ lines, bytes }));
            res.on('error', reject);
          })
          .on('error', reject);
      });

    // Warm-up: a small export, so that lazily loaded code and the first plan are not counted.
    await stream(
      new URLSearchParams({ ...Object.fromEntries(params), filter: '{"pfaId":{"startsWith":"~"}}' }),
    );
    const start = rssMb(pid);
    console.log(
      `export ${args.org} ${args.format} fields=${args.fields ?? '(all)'} session=${args.session ?? '-'} ` +
        `on ${args.database}; API RSS at start ${start.toFixed(0)} MB; load average ${load()}`,
    );
    for (let run = 1; run <= Number(args.runs); run++) {
      const before = rssMb(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
      const cpu0 = cpuSeconds(pid);
      const t0 = process.hrtime.bigint();
      const { lines, bytes } = await stream(params);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(sampler);
      peak = Math.max(peak, rssMb(pid));
      const cpu = cpuSeconds(pid) - cpu0;
      const rows = args.format === 'csv' ? lines - 1 : lines;
      console.log(
        `run ${run}: ${rows} rows, ${(bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(2)} s = ` +
          `${Math.round(rows / seconds)} rows/s, ${(bytes / 1048576 / seconds).toFixed(1)} MB/s; ` +
          `API CPU ${cpu.toFixed(2)} s; RSS growth ${(peak - before).toFixed(1)} MB (peak ${peak.toFixed(0)} MB, after ${rssMb(pid).toFixed(0)} MB); ` +
          `load average ${load()}`,
      );
    }
  } finally {
    await api.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
