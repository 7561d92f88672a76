import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { sql } from 'kysely';
import {
  DEFAULT_EXPORT_FIELDS,
  csvCell,
  csvLine,
  ndjsonLine,
  plainNumber,
  rowValues,
  type ExportRecord,
} from '../src/domain/export-format.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/** Issue 12 point 6: GET /export, compared with pfaRecords over the same data and session. */

const ORG = 'HOLNG';
let app: TestApp;
let ids: Map<string, string>;

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF) — independent of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

async function exportText(
  params: Record<string, string>,
  o: { token?: string | null; session?: string } = {},
): Promise<{ status: number; text: string; type: string | null }> {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? await app.token('editor', [ORG, 'ORG2']) : o.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (o.session) headers['x-session-id'] = o.session;
  const res = await fetch(`${app.url}/export?${new URLSearchParams(params).toString()}`, { headers });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, text: buf.toString('utf8'), type: res.headers.get('content-type') };
}

const TRICKY = [
  {
    pfaId: 'HOLNG-TRICKY-1',
    data: {
      pfaId: 'HOLNG-TRICKY-1',
      category: 'Cranes, "big"',
      model: 'line1\nline2',
      manufacturer: 'cr\rlf',
      monthlyRate: 1e-7,
      dor: 'PROJECT',
    },
  },
  {
    pfaId: 'HOLNG-TRICKY-2',
    data: {
      pfaId: 'HOLNG-TRICKY-2',
      category: 'Ünïcødé ✓',
      model: '"',
      manufacturer: '',
      purchasePrice: 1e21,
      source: 'Purchase',
      dor: 'PROJECT',
    },
  },
];

beforeAll(async () => {
  app = await startTestApp();
  ids = await insertRecords(app.database.db, ORG, 300, TRICKY);
  const first = [...ids.values()].slice(0, 6);
  // The caller's drafts (session s-mine), a pending commit, and another user's draft.
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: first[0] as string,
    session: 's-mine',
    user: 'user-editor',
    delta: { category: 'Draft, "quoted"', monthlyRate: 4321.5 },
    state: 'draft',
  });
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: first[1] as string,
    session: 's-mine',
    user: 'user-editor',
    delta: { forecastEnd: '2031-01-31' },
    state: 'draft',
  });
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: first[2] as string,
    session: 's-other',
    user: 'someone-else',
    delta: { category: 'OTHER SESSION' },
    state: 'draft',
  });
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: first[3] as string,
    session: 's-other',
    user: 'someone-else',
    delta: { category: 'Committed change' },
    state: 'committed',
  });
});

afterAll(async () => {
  await app.close();
});

/** Every record of a filter through pfaRecords (paged), as objects of the given fields. */
async function viaGraphql(
  fields: string[],
  filter: unknown,
  orderBy: string[],
  session?: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let after: string | null = null;
  for (;;) {
    const r: Awaited<ReturnType<TestApp['gql']>> = await app.gql(
      `query($f: PfaRecordFilter, $o: [PfaRecordOrderBy!], $a: String) {
        pfaRecords(organizationId: "${ORG}", filter: $f, orderBy: $o, first: 1000, after: $a) {
          nodes { ${fields.join(' ')} } pageInfo { hasNextPage endCursor } } }`,
      {
        variables: { f: filter, o: orderBy, a: after },
        token: await app.token('editor', [ORG]),
        session: session ?? null,
      },
    );
    expect(r.errors).toBeUndefined();
    const page = (
      r.data as {
        pfaRecords: {
          nodes: Record<string, unknown>[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      }
    ).pfaRecords;
    out.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

/** A GraphQL value as the export writes it in CSV. */
const asCsv = (v: unknown): string =>
  csvCell(v as string | number | boolean | null)
    .replace(/^"|"$/g, '')
    .replace(/""/g, '"');

describe('GET /export', () => {
  const FIELDS = [
    'id',
    'pfaId',
    'category',
    'model',
    'manufacturer',
    'monthlyRate',
    'purchasePrice',
    'forecastStart',
    'forecastEnd',
    'isActualized',
    'planCost',
    'forecastCost',
    'variance',
    'forecastSlipDays',
    'viewKey',
  ];

  it("CSV of a filtered, ordered view with the caller's drafts equals pfaRecords for the same session", async () => {
    const filter = { or: [{ dor: { eq: 'PROJECT' } }, { category: { contains: 'e' } }] };
    const orderBy = ['CATEGORY_ASC', 'FORECAST_START_DESC'];
    for (const session of [undefined, 's-mine']) {
      const expected = await viaGraphql(FIELDS, filter, orderBy, session);
      const r = await exportText(
        {
          organizationId: ORG,
          format: 'csv',
          filter: JSON.stringify(filter),
          orderBy: orderBy.join(','),
          fields: FIELDS.join(','),
        },
        session ? { session } : {},
      );
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^text\/csv/);
      expect(r.text.endsWith('\r\n')).toBe(true);
      const rows = parseCsv(r.text);
      expect(rows[0]).toEqual(FIELDS);
      expect(rows.length - 1).toBe(expected.length);
      expect(expected.length).toBeGreaterThan(10);
      rows.slice(1).forEach((row, i) => {
        const want = expected[i] as Record<string, unknown>;
        expect(row).toEqual(FIELDS.map((f) => asCsv(want[f] ?? null)));
      });
      const categories = rows.slice(1).map((row) => row[2]);
      // Drafts: only the caller's own session, never another's.
      expect(categories.includes('Draft, "quoted"')).toBe(session === 's-mine');
      expect(categories).not.toContain('OTHER SESSION');
    }
  });

  it('quotes per RFC 4180, writes plain decimals, empty cells for null, and an optional BOM', async () => {
    const filter = { pfaId: { startsWith: 'HOLNG-TRICKY' } };
    const r = await exportText({
      organizationId: ORG,
      filter: JSON.stringify(filter),
      fields: 'pfaId,category,model,manufacturer,monthlyRate,purchasePrice,forecastStart',
      bom: 'true',
    });
    expect(r.status).toBe(200);
    expect(r.text.charCodeAt(0)).toBe(0xfeff);
    const lines = r.text.slice(1);
    expect(lines).toContain('HOLNG-TRICKY-1,"Cranes, ""big""","line1\nline2","cr\rlf",0.0000001,,\r\n');
    expect(lines).toContain('HOLNG-TRICKY-2,Ünïcødé ✓,"""",,,1000000000000000000000,\r\n');
    expect(lines).not.toMatch(/\de[+-]?\d/i);
    const noBom = await exportText({ organizationId: ORG, filter: JSON.stringify(filter), fields: 'pfaId' });
    expect(noBom.text).toBe('pfaId\r\nHOLNG-TRICKY-1\r\nHOLNG-TRICKY-2\r\n');
  });

  it('ndjson: one object per line, equal to pfaRecords', async () => {
    const filter = { dor: { eq: 'PROJECT' } };
    const expected = await viaGraphql(FIELDS, filter, [], 's-mine');
    const r = await exportText(
      { organizationId: ORG, format: 'ndjson', filter: JSON.stringify(filter), fields: FIELDS.join(',') },
      { session: 's-mine' },
    );
    expect(r.status).toBe(200);
    const lines = r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual(expected);
  });

  it('errors before the first byte are JSON: 400, 401, 403', async () => {
    const cases: [Record<string, string>, { token?: string | null; session?: string }, number, string][] = [
      [{ organizationId: ORG, format: 'xlsx' }, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG, filter: '{not json' }, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG, filter: '{"forecastStart":{"eq":"2026-02-31"}}' }, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG, filter: '{"nope":{"eq":1}}' }, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG, orderBy: 'SIDEWAYS' }, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG, fields: 'id,draft' }, {}, 400, 'BAD_USER_INPUT'],
      [{}, {}, 400, 'BAD_USER_INPUT'],
      [{ organizationId: ORG }, { token: null }, 401, 'UNAUTHENTICATED'],
      [{ organizationId: ORG }, { token: 'garbage' }, 401, 'UNAUTHENTICATED'],
      [{ organizationId: 'ORG3' }, {}, 403, 'FORBIDDEN'],
      [{ organizationId: ORG }, { session: 's-other' }, 403, 'FORBIDDEN'],
    ];
    for (const [params, o, status, code] of cases) {
      const r = await exportText(params, o);
      expect({ params, status: r.status }).toEqual({ params, status });
      expect(r.type).toMatch(/^application\/json/);
      const body = JSON.parse(r.text) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe(code);
    }
  });

  it('a client that disconnects mid-stream does not crash the server, and its connection is returned', async () => {
    // Enough rows that the response cannot fit in socket buffers.
    await insertRecords(app.database.db, 'BIGX', 12_000);
    const token = await app.token('viewer', ['BIGX']);
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          `${app.url}/export?organizationId=BIGX&format=ndjson`,
          { headers: { authorization: `Bearer ${token}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
      });
    }
    // The server still answers, and the pool is not leaking the aborted exports' connections.
    for (let i = 0; i < 3; i++) {
      const r = await exportText({
        organizationId: ORG,
        fields: 'id',
        filter: '{"pfaId":{"startsWith":"HOLNG-TRICKY"}}',
      });
      expect(r.status).toBe(200);
    }
    const deadline = Date.now() + 10_000;
    while (app.database.pool.totalCount - app.database.pool.idleCount > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(app.database.pool.totalCount - app.database.pool.idleCount).toBe(0);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('GET /export: the lines PostgreSQL writes', () => {
  const PARITY = 'PARITY';
  const RAW = /"RAW:([^"]*)"/g; // a JSON number written as is (beyond what a double holds)
  const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const TEXTS = [
    'plain',
    '',
    'a,b',
    'say "hi"',
    '"',
    'line1\nline2',
    'cr\rlf',
    'crlf\r\n',
    'back\\slash',
    'tab\there',
    'ctl\u0001\u001f',
    'del\u007f',
    '=SUM(A1)',
    ' padded ',
    'Ünïcødé ✓ 🚧',
    'u2028\u2028',
    42,
    true,
    null,
  ];
  const MONEY = [
    0,
    1,
    0.1,
    0.30000000000000004,
    1234.5,
    4321.123456789,
    1e-7,
    1.5e-7,
    0.0001,
    0.00009999,
    1e-6,
    9.99e-7,
    123456789012345.6,
    1e15,
    999999999999999.9,
    1e21,
    1.2345678901234567e22,
    -5,
    '00012.50',
    '.5',
    '5.',
    '1e5',
    'abc',
    'RAW:1e400',
    'RAW:1e-400',
    'RAW:5e-324',
    'RAW:1.7976931348623157e308',
    'RAW:1e299',
    'RAW:123.4500000000000000000001',
    '9'.repeat(400),
    null,
  ];
  const DATES = [
    '2026-01-01',
    '2026-02-28',
    '2024-02-29',
    '2026-02-29',
    '0001-01-01',
    '0500-06-15',
    '2026-03-01T23:30:00-05:00',
    '2026-03-01T01:30:00+05:30',
    '2026-03-01T12:00:00Z',
    '9999-12-31',
    '9999-12-31T23:00:00-05:00',
    '2026-13-01',
    'soon',
    20260101,
    null,
  ];
  const BOOLS = [true, false, 'TRUE', 'false', 'yes', 1, null];

  function randomMoney(rnd: () => number): unknown {
    if (rnd() < 0.5) return pick(rnd, MONEY);
    // Random digits at a random magnitude: every double's shortest form, plain or not.
    const digits = Math.floor(rnd() * 1e9) / 10 ** Math.floor(rnd() * 9);
    return digits * 10 ** (Math.floor(rnd() * 36) - 14);
  }

  beforeAll(async () => {
    const db = app.database.db;
    await sql`INSERT INTO organization (id, name) VALUES (${PARITY}, 'export parity')`.execute(db);
    const rnd = prng(20261205);
    for (let i = 0; i < 400; i++) {
      const data: Record<string, unknown> = { pfaId: `P-${i}` };
      for (const key of [
        'category',
        'class',
        'dor',
        'areaSilo',
        'manufacturer',
        'model',
        'contract',
        'equipment',
      ])
        if (rnd() < 0.9) data[key] = pick(rnd, TEXTS);
      data.source = pick(rnd, ['Purchase', 'Rental', 'Rental', 'purchase', null]);
      data.monthlyRate = randomMoney(rnd);
      data.purchasePrice = randomMoney(rnd);
      for (const key of [
        'originalStart',
        'originalEnd',
        'forecastStart',
        'forecastEnd',
        'actualStart',
        'actualEnd',
      ])
        data[key] =
          rnd() < 0.7 ? `2026-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 10)}` : pick(rnd, DATES);
      for (const key of ['isActualized', 'hasActuals', 'hasPlan', 'isFundsTransferable'])
        data[key] = pick(rnd, BOOLS);
      const json = JSON.stringify(data).replace(RAW, '$1');
      const synced = `20${10 + Math.floor(rnd() * 20)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 10)} 0${Math.floor(rnd() * 10)}:1${Math.floor(rnd() * 10)}:2${Math.floor(rnd() * 10)}.${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}+00`;
      await sql`
        INSERT INTO pfa_mirror (organization_id, pfa_id, data, pems_version, last_synced_at, removed_from_pems_at)
        VALUES (${PARITY}, ${`P-${i}`}, ${json}::jsonb, ${pick(rnd, ['1', 'v,2', 'v"3', null])},
                ${synced}::timestamptz, ${rnd() < 0.2 ? synced : null}::timestamptz)`.execute(db);
    }
  });

  it('are byte for byte what the JavaScript writer makes of the same records (CSV and ndjson)', async () => {
    const { rows } = await app.database.pool.query<unknown[]>({
      text: `SELECT id::text, organization_id, pfa_id, version, pems_version, last_synced_at, removed_from_pems_at, data
             FROM pfa_mirror WHERE organization_id = $1 ORDER BY pfa_mirror.id`,
      values: [PARITY],
      rowMode: 'array',
    });
    const records = rows.map((r): ExportRecord => ({
      id: r[0] as string,
      organizationId: r[1] as string,
      pfaId: r[2] as string,
      version: r[3] as number,
      pemsVersion: r[4] as string | null,
      lastSyncedAt: r[5] as Date,
      removedFromPemsAt: r[6] as Date | null,
      sessionId: null,
      data: r[7] as Record<string, unknown>,
    }));
    expect(records.length).toBe(400);
    const fields = [...DEFAULT_EXPORT_FIELDS];
    const values = rowValues(fields);
    const token = await app.token('viewer', [PARITY]);
    for (const format of ['csv', 'ndjson'] as const) {
      const r = await exportText(
        { organizationId: PARITY, format, filter: '{"includeRemoved":true}' },
        { token },
      );
      expect(r.status).toBe(200);
      const expected =
        (format === 'csv' ? csvLine(fields) : '') +
        records
          .map((rec) => (format === 'csv' ? csvLine(values(rec)) : ndjsonLine(fields, values(rec))))
          .join('');
      // Line by line first, so that a difference names its record.
      const split = (t: string) => t.split(format === 'csv' ? /(?<=\r\n)/ : /(?<=\n)/);
      expect(split(r.text)).toEqual(split(expected));
      expect(r.text).toBe(expected);
    }
  });
});

describe('GET /export when the database fails mid-stream', () => {
  it('aborts the response (no clean end), and the server keeps serving', async () => {
    const token = await app.token('viewer', ['BIGX']);
    for (let i = 0; i < 3; i++) {
      const ended = await new Promise<boolean>((resolve, reject) => {
        const req = http.get(
          `${app.url}/export?organizationId=BIGX&format=csv`,
          { headers: { authorization: `Bearer ${token}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            let clean = false;
            res.once('data', () => {
              res.pause();
              // Kill the export's connection (in this test's own database only) while it waits.
              void sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                       WHERE datname = current_database() AND query LIKE 'FETCH%' AND pid <> pg_backend_pid()`
                .execute(app.database.db)
                .then(() => res.resume(), reject);
            });
            res.on('data', () => undefined);
            res.on('end', () => (clean = true));
            res.on('error', () => undefined);
            res.on('close', () => resolve(clean));
          },
        );
        req.on('error', () => resolve(false));
      });
      expect(ended).toBe(false);
    }
    const r = await exportText({
      organizationId: ORG,
      fields: 'id',
      filter: '{"pfaId":{"startsWith":"HOLNG-TRICKY"}}',
    });
    expect(r.status).toBe(200);
    expect(r.text.split('\r\n').length).toBe(4);
  });
});

describe('export formatting', () => {
  it('plain decimals', () => {
    expect(plainNumber(1e21)).toBe('1000000000000000000000');
    expect(plainNumber(1.5e-7)).toBe('0.00000015');
    expect(plainNumber(-2.5e22)).toBe('-25000000000000000000000');
    expect(plainNumber(1234.5)).toBe('1234.5');
    expect(plainNumber(0)).toBe('0');
    expect(Number(plainNumber(1.234567e-10))).toBe(1.234567e-10);
  });
  it('CSV cells', () => {
    expect(csvLine(['a', 'b,c', 'd"e', 'f\ng', null, 3, true])).toBe('a,"b,c","d""e","f\ng",,3,true\r\n');
  });
});
