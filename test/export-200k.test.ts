import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { sql } from 'kysely';
import { readFileSync } from 'node:fs';
import { signToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { startApiProcess, type ServiceProcess } from './helpers/service-process.js';

/**
 * Issue 12 point 6 at scale: 200K records exported as CSV, parsed back while streaming (count +
 * checksum compared with SQL over the same rows), with the API process's RSS growth printed (the
 * server runs as its own process, so the client's parsing does not count).
 */

const ORG = 'BIG';
const N = 200_000;
let t: TestDatabase;
let api: ServiceProcess;
let baseUrl: string;

/** Resident set of a process, from /proc (bytes). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

beforeAll(async () => {
  t = await createTestDatabase();
  await sql`INSERT INTO organization (id, name) VALUES (${ORG}, 'export scale')`.execute(t.db);
  await sql`
    INSERT INTO pfa_mirror (organization_id, pfa_id, data, pems_version)
    SELECT ${ORG}, 'BIG-' || lpad(i::text, 7, '0'),
           jsonb_build_object('pfaId', 'BIG-' || lpad(i::text, 7, '0'), 'category', 'Cat, ' || (i % 37),
             'source', CASE WHEN i % 5 = 0 THEN 'Purchase' ELSE 'Rental' END, 'dor', 'PROJECT',
             'monthlyRate', (i % 997) * 10.5, 'purchasePrice', i % 1000,
             'forecastStart', (date '2026-01-01' + (i % 300))::text, 'forecastEnd', (date '2026-06-01' + (i % 400))::text,
             'originalStart', (date '2026-01-01' + (i % 250))::text, 'originalEnd', (date '2026-07-01' + (i % 333))::text),
           'v' || i
    FROM generate_series(1, ${N}) AS i`.execute(t.db);
  await sql`ANALYZE pfa_mirror`.execute(t.db);
  ({ api, baseUrl } = await startApiProcess({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: t.url,
    DB_POOL_MAX: '4',
  }));
}, 300_000);

afterAll(async () => {
  await api?.stop();
  await t?.drop();
});

it('exports 200K rows with constant memory; count and checksum match SQL', async () => {
  const { rows } = await sql<{ n: string; sum: string }>`
    SELECT count(*)::text AS n, sum(id)::text AS sum FROM pfa_mirror WHERE organization_id = ${ORG}`.execute(
    t.db,
  );
  const token = await signToken(TEST_SECRET, { sub: 'viewer', orgs: [ORG], role: 'viewer' });
  const pid = api.child.pid as number;
  // Warm-up: a small export, so that lazily loaded code is not counted as growth.
  await fetch(
    `${baseUrl}/export?organizationId=${ORG}&fields=id&filter=${encodeURIComponent('{"pfaId":{"eq":"BIG-0000001"}}')}`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  ).then((r) => r.text());
  // Twice: the second run shows whether memory keeps growing with the rows sent (it should not).
  const baseline = rssOf(pid);
  for (const run of [1, 2]) {
    const rssBefore = rssOf(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(pid));
    }, 20);
    const started = process.hrtime.bigint();
    const result = await new Promise<{ count: number; idSum: bigint; pfaHash: string; complete: boolean }>(
      (resolve, reject) => {
        http
          .get(
            `${baseUrl}/export?organizationId=${ORG}&format=csv&fields=id,pfaId,category,forecastCost`,
            { headers: { authorization: `Bearer ${token}` } },
            (res) => {
              expect(res.statusCode).toBe(200);
              let rest = '';
              let count = -1; // header line
              let idSum = 0n;
              const hash = createHash('sha256');
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                const text = rest + chunk;
                const lines = text.split('\r\n');
                rest = lines.pop() ?? '';
                for (const line of lines) {
                  count++;
                  if (count === 0) continue;
                  const comma = line.indexOf(',');
                  idSum += BigInt(line.slice(0, comma));
                  hash.update(line.slice(comma + 1, line.indexOf(',', comma + 1)));
                }
              });
              res.on('end', () =>
                resolve({ count, idSum, pfaHash: hash.digest('hex'), complete: rest === '' }),
              );
              res.on('error', reject);
            },
          )
          .on('error', reject);
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const growthMb = (rssPeak - rssBefore) / 1024 / 1024;
    const { rows: hashRows } = await sql<{ pfa_id: string }>`
      SELECT pfa_id FROM pfa_mirror WHERE organization_id = ${ORG} ORDER BY id`.execute(t.db);
    const expectedHash = createHash('sha256');
    for (const r of hashRows) expectedHash.update(r.pfa_id);
    console.log(
      `run ${run}: export of ${result.count} rows: ${seconds.toFixed(2)} s, ${Math.round(result.count / seconds)} rows/s, ` +
        `API process RSS growth ${growthMb.toFixed(1)} MB (before ${(rssBefore / 1048576).toFixed(0)} MB)`,
    );
    expect(result.complete).toBe(true);
    expect(result.count).toBe(Number(rows[0]?.n));
    expect(result.idSum.toString()).toBe(rows[0]?.sum);
    expect(result.pfaHash).toBe(expectedHash.digest('hex'));
    console.log(
      `after run ${run}: API RSS ${((rssOf(pid) - baseline) / 1048576).toFixed(1)} MB above the start`,
    );
  }
}, 300_000);
