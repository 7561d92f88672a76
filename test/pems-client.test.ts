import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateRecord, generatedPfaId, planOrganizations } from '../src/domain/generator.js';
import {
  PemsClient,
  PemsRateLimitedError,
  PemsRequestError,
  PemsStaleRecordError,
  PemsTransientError,
  TokenBucket,
  isRetryable,
  parseRetryAfter,
  type PemsPageRecord,
} from '../src/pems/client.js';
import {
  FieldMapError,
  PEMS_FIELD_MAP,
  fromPemsRow,
  toPemsFields,
  PemsGridWriter,
  gridColumns,
} from '../src/pems/field-map.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { RECORD_FIELDS } from '../src/domain/record-fields.js';

const API_KEY = 'test-key';
const ORGS = 3;
const RECORDS = 3_000;

/** Calls the simulator's control API over HTTP, as a demo or another test process would. */
async function control(sim: PemsSimulator, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function readAll(
  client: PemsClient,
  org: string,
  pageSize: number,
  updatedSince?: string,
): Promise<{ records: PemsPageRecord[]; pages: number; firstWatermark?: string }> {
  const records: PemsPageRecord[] = [];
  let cursor = 0;
  let pages = 0;
  let firstWatermark: string | undefined;
  for (;;) {
    const page = await client.readPage(org, { cursor, pageSize, ...(updatedSince ? { updatedSince } : {}) });
    if (pages === 0) firstWatermark = page.watermark;
    pages += 1;
    records.push(...page.records);
    if (!page.more) break;
    expect(page.nextCursor).toBeGreaterThan(cursor);
    cursor = page.nextCursor;
  }
  return { records, pages, ...(firstWatermark === undefined ? {} : { firstWatermark }) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('PEMS field map', () => {
  it('maps every record key of DOMAIN §1 and pfaId, one to one', () => {
    const keys = PEMS_FIELD_MAP.map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(PEMS_FIELD_MAP.map((m) => m.pems)).size).toBe(keys.length);
    expect(keys.sort()).toEqual(['pfaId', ...RECORD_FIELDS.map((f) => f.key)].sort());
  });

  it('round-trips data exactly through field/value pairs and grid rows, types included', () => {
    const data: Record<string, unknown> = {
      pfaId: 'X-1',
      monthlyRate: '1250.50', // numeric string stays a string
      purchasePrice: 0,
      isActualized: false,
      actualStart: null,
      costCenter: 'CC-1', // unknown camel key ↔ COST_CENTER
      UDF_01: 'kept as-is',
      weird_key: 7,
    };
    const pairs = toPemsFields(data);
    expect(pairs.find((f) => f.FIELDNAME === 'COST_CENTER')?.FIELDVALUE).toBe('CC-1');
    expect(pairs.find((f) => f.FIELDNAME === 'MONTHLY_RATE')?.FIELDVALUE).toBe('1250.50');
    const viaPairs = fromPemsRow({ DATAFIELD: [{ FIELDNAME: 'RECORDID', FIELDVALUE: '9' }, ...pairs] });
    expect(viaPairs).toEqual({ ok: true, pfaId: 'X-1', recordid: '9', organization: null, data });

    const writer = new PemsGridWriter();
    const row = writer.row('ORG', '9', data);
    const viaGrid = fromPemsRow(JSON.parse(JSON.stringify(row)) as unknown, gridColumns(writer.fields) ?? []);
    expect(viaGrid.ok && viaGrid.data).toStrictEqual(data);

    for (let i = 0; i < 200; i++) {
      const g = generateRecord('HOLNG', i);
      const w = new PemsGridWriter();
      const m = fromPemsRow(w.row('HOLNG', g.pemsVersion, g.data), gridColumns(w.fields) ?? []);
      expect(m.ok && m.data).toStrictEqual(g.data);
    }
  });

  it('refuses names that would come back as another field', () => {
    expect(() => toPemsFields({ originalStartDate: '2025-01-01' })).toThrow(FieldMapError);
    expect(() => toPemsFields({ recordid: '3' })).toThrow(FieldMapError);
    const shadow = fromPemsRow({
      DATAFIELD: [
        { FIELDNAME: 'PFA_ID', FIELDVALUE: 'X-1' },
        { FIELDNAME: 'RECORDID', FIELDVALUE: '1' },
        { FIELDNAME: 'IS_ACTUALIZED', FIELDVALUE: true },
      ],
    });
    expect(shadow).toMatchObject({ ok: false, pfaId: 'X-1', recordid: '1' });
    const twice = fromPemsRow(
      [0, 'X-1', 1, '1', 2, 'CC-1', 3, 'cc-1'],
      gridColumns(['PFA_ID', 'RECORDID', 'COST_CENTER', 'costCenter']) ?? [],
    );
    expect(twice).toMatchObject({ ok: false, pfaId: 'X-1', error: expect.stringContaining('twice') });
    const once = fromPemsRow(
      [0, 'X-2', 1, '1', 2, 'CC-1'],
      gridColumns(['PFA_ID', 'RECORDID', 'COST_CENTER']) ?? [],
    );
    expect(once).toMatchObject({ ok: true, data: { pfaId: 'X-2', costCenter: 'CC-1' } });
  });
});

describe('PemsClient against the simulator', () => {
  let sim: PemsSimulator;
  let client: PemsClient;
  const plan = planOrganizations(RECORDS, ORGS);
  const [first, second, third] = plan as [(typeof plan)[0], (typeof plan)[0], (typeof plan)[0]];

  beforeAll(async () => {
    sim = await startPemsSimulator({ port: 0, orgs: ORGS, records: RECORDS, apiKey: API_KEY });
    client = new PemsClient({ baseUrl: sim.url, tenant: 'TEST', apiKey: API_KEY, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('pages through every organization without duplicates, counts as planned', async () => {
    const stats = (await control(sim, 'GET', '/_sim/stats')) as {
      organizations: { id: string; records: number }[];
    };
    expect(stats.organizations.map((o) => ({ id: o.id, records: o.records }))).toEqual(
      plan.map((o) => ({ id: o.id, records: o.records })),
    );
    for (const org of plan) {
      const { records, pages } = await readAll(client, org.id, 250);
      expect(records).toHaveLength(org.records);
      expect(new Set(records.map((r) => r.pfaId)).size).toBe(org.records);
      expect(records.every((r) => r.data !== null && r.error === undefined)).toBe(true);
      expect(pages).toBe(Math.max(1, Math.ceil(org.records / 250)));
    }
  });

  it('maps every row back to exactly the generated data, recordid = pemsVersion', async () => {
    const { records } = await readAll(client, first.id, 1_000);
    records.forEach((r, i) => {
      const g = generateRecord(first.id, i);
      expect(r.pfaId).toBe(g.pfaId);
      expect(r.recordid).toBe(g.pemsVersion);
      expect(r.data).toStrictEqual(g.data);
    });
    // The sample exercises the loose shapes: numeric-string rates, a missing isDiscontinued, nulls.
    expect(records.some((r) => typeof r.data?.monthlyRate === 'string')).toBe(true);
    expect(records.some((r) => r.data !== null && !('isDiscontinued' in r.data))).toBe(true);
    expect(records.some((r) => r.data?.actualStart === null)).toBe(true);
  });

  it('updates with the right recordid, then rejects a stale one as a conflict', async () => {
    const pfaId = generatedPfaId(second.id, 5);
    const before = await client.getRecord(second.id, pfaId);
    expect(before?.recordid).toBe('1');

    const { recordid } = await client.updateRecord(
      second.id,
      pfaId,
      { forecastEnd: '2027-01-31', monthlyRate: 1234.5 },
      '1',
    );
    expect(recordid).toBe('2');
    const after = await client.getRecord(second.id, pfaId);
    expect(after).toEqual({
      pfaId,
      recordid: '2',
      data: { ...generateRecord(second.id, 5).data, forecastEnd: '2027-01-31', monthlyRate: 1234.5 },
    });

    const err = await rejection(client.updateRecord(second.id, pfaId, { forecastEnd: '2027-02-28' }, '1'));
    expect(err).toBeInstanceOf(PemsStaleRecordError);
    expect((err as PemsStaleRecordError).message).toContain('This record has been modified by another user');
    expect((err as PemsStaleRecordError).sentRecordid).toBe('1');
    expect(isRetryable(err)).toBe(false);
    expect((await client.getRecord(second.id, pfaId))?.data.forecastEnd).toBe('2027-01-31');
  });

  it('counts applied updates per record in /_sim/stats', async () => {
    const a = generatedPfaId(second.id, 10);
    const b = generatedPfaId(second.id, 11);
    const r1 = await client.updateRecord(second.id, a, { dor: 'BEO' }, '1');
    await client.updateRecord(second.id, a, { dor: 'OWNER' }, r1.recordid);
    await client.updateRecord(second.id, b, { isDiscontinued: true }, '1');
    await rejection(client.updateRecord(second.id, b, { isDiscontinued: false }, '1')); // stale: not counted
    const stats = (await control(sim, 'GET', '/_sim/stats')) as {
      updates: Record<string, number>;
      requests: { staleRejected: number };
    };
    expect(stats.updates[`${second.id}/${a}`]).toBe(2);
    expect(stats.updates[`${second.id}/${b}`]).toBe(1);
    expect(stats.requests.staleRejected).toBeGreaterThanOrEqual(1);
  });

  it('a change by another PEMS user bumps recordid and makes ours stale', async () => {
    const pfaId = generatedPfaId(second.id, 20);
    const changed = (await control(sim, 'PUT', `/_sim/records/${second.id}/${pfaId}`, {
      category: 'Cranes',
    })) as {
      recordid: string;
      data: Record<string, unknown>;
    };
    expect(changed.recordid).toBe('2');
    expect(changed.data.category).toBe('Cranes');
    expect(await control(sim, 'GET', `/_sim/records/${second.id}/${pfaId}`)).toEqual(changed);
    await expect(client.updateRecord(second.id, pfaId, { dor: 'BEO' }, '1')).rejects.toBeInstanceOf(
      PemsStaleRecordError,
    );
  });

  it('reads only records changed after a watermark (updatedSince)', async () => {
    const { firstWatermark } = await readAll(client, third.id, 1_000);
    expect(firstWatermark).toBeDefined();
    const ids = [3, 7, 42].map((i) => generatedPfaId(third.id, i));
    await control(sim, 'PUT', `/_sim/records/${third.id}/${ids[0]}`, { model: 'A' });
    await control(sim, 'PUT', `/_sim/records/${third.id}/${ids[1]}`, { model: 'B' });
    await control(sim, 'PUT', `/_sim/records/${third.id}/${ids[0]}`, { model: 'C' }); // twice: read once
    await client.updateRecord(third.id, ids[2] as string, { contract: 'RA-2026-00001' }, '1');
    await control(sim, 'PUT', `/_sim/records/${second.id}/${generatedPfaId(second.id, 99)}`, {
      model: 'other org',
    });

    const inc = await readAll(client, third.id, 2, firstWatermark);
    expect(inc.records.map((r) => r.pfaId)).toEqual([ids[1], ids[0], ids[2]]); // in change order
    expect(inc.records.map((r) => r.recordid)).toEqual(['2', '3', '2']);
    expect(inc.records[1]?.data).toStrictEqual({ ...generateRecord(third.id, 3).data, model: 'C' });

    const again = await readAll(client, third.id, 100, inc.firstWatermark);
    // The watermark of the first incremental page was taken before it was served: the changes
    // made before it are not read again.
    expect(again.records).toHaveLength(0);
  });

  it('leaves a deleted record out of full reads and single reads', async () => {
    const pfaId = generatedPfaId(third.id, 100);
    await control(sim, 'DELETE', `/_sim/records/${third.id}/${pfaId}`);
    const { records } = await readAll(client, third.id, 300);
    expect(records).toHaveLength(third.records - 1);
    expect(records.some((r) => r.pfaId === pfaId)).toBe(false);
    expect(await client.getRecord(third.id, pfaId)).toBeNull();
    const err = await rejection(client.updateRecord(third.id, pfaId, { dor: 'BEO' }, '1'));
    expect(err).toBeInstanceOf(PemsRequestError);
    expect((err as PemsRequestError).status).toBe(404);
    const stats = (await control(sim, 'GET', '/_sim/stats')) as {
      organizations: { id: string; records: number }[];
    };
    expect(stats.organizations.find((o) => o.id === third.id)?.records).toBe(third.records - 1);
  });

  it('returns malformed rows with an error and their pfaId, the rest of the page intact', async () => {
    await control(sim, 'POST', '/_sim/faults', { malformedEvery: 7 });
    try {
      const { records } = await readAll(client, first.id, 500);
      expect(records).toHaveLength(first.records);
      const bad = records.filter((r) => r.data === null);
      expect(bad).toHaveLength(Math.floor(first.records / 7));
      records.forEach((r, i) => {
        expect(r.pfaId).toBe(generatedPfaId(first.id, i));
        if ((i + 1) % 7 === 0) {
          expect(r.error).toEqual(expect.any(String));
          expect(r.raw).toMatchObject({ PFA_ID: r.pfaId });
        } else {
          expect(r.error).toBeUndefined();
          expect(r.data).toStrictEqual(generateRecord(first.id, i).data);
        }
      });
    } finally {
      await control(sim, 'DELETE', '/_sim/faults');
    }
  });

  it('classifies 500s as transient (retryable) and recovers when the faults stop', async () => {
    await control(sim, 'POST', '/_sim/faults', { errorRate: 1 });
    try {
      const err = await rejection(client.readPage(first.id, { cursor: 0, pageSize: 10 }));
      expect(err).toBeInstanceOf(PemsTransientError);
      expect((err as PemsTransientError).status).toBe(500);
      expect(isRetryable(err)).toBe(true);
      const upd = await rejection(
        client.updateRecord(first.id, generatedPfaId(first.id, 1), { dor: 'BEO' }, '1'),
      );
      expect(upd).toBeInstanceOf(PemsTransientError);
    } finally {
      await control(sim, 'DELETE', '/_sim/faults');
    }
    expect((await client.readPage(first.id, { cursor: 0, pageSize: 10 })).records).toHaveLength(10);

    await control(sim, 'POST', '/_sim/faults', { failNext: 2, status: 503 });
    await expect(client.readPage(first.id, { cursor: 0, pageSize: 1 })).rejects.toBeInstanceOf(
      PemsTransientError,
    );
    await expect(client.readPage(first.id, { cursor: 0, pageSize: 1 })).rejects.toBeInstanceOf(
      PemsTransientError,
    );
    expect((await client.readPage(first.id, { cursor: 0, pageSize: 1 })).records).toHaveLength(1);
    await control(sim, 'DELETE', '/_sim/faults');
  });

  it('classifies 429 as rate limited, with Retry-After in ms', async () => {
    await control(sim, 'POST', '/_sim/faults', { errorRate: 1, status: 429 });
    try {
      const err = await rejection(client.readPage(first.id, { cursor: 0, pageSize: 10 }));
      expect(err).toBeInstanceOf(PemsRateLimitedError);
      expect((err as PemsRateLimitedError).retryAfterMs).toBe(1_000);
      expect(isRetryable(err)).toBe(true);
      await control(sim, 'POST', '/_sim/faults', { errorRate: 1, status: 429, retryAfterSeconds: 3 });
      const err3 = await rejection(client.readPage(first.id, { cursor: 0, pageSize: 10 }));
      expect((err3 as PemsRateLimitedError).retryAfterMs).toBe(3_000);
    } finally {
      await control(sim, 'DELETE', '/_sim/faults');
    }
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(new Date(Date.now() + 5_000).toUTCString())).toBeGreaterThan(3_000);
    expect(parseRetryAfter(null)).toBe(1_000);
  });

  it('treats timeouts and refused connections as transient, other 4xx as not retryable', async () => {
    await control(sim, 'POST', '/_sim/faults', { latencyMs: 300 });
    try {
      const impatient = new PemsClient({ baseUrl: sim.url, tenant: 'TEST', apiKey: API_KEY, timeoutMs: 50 });
      const err = await rejection(impatient.readPage(first.id, { cursor: 0, pageSize: 1 }));
      expect(err).toBeInstanceOf(PemsTransientError);
      expect((err as Error).message).toMatch(/timed out/);
    } finally {
      await control(sim, 'DELETE', '/_sim/faults');
    }

    const closed = await startPemsSimulator({ orgs: 1, records: 1 });
    const url = closed.url;
    await closed.close();
    const refused = await rejection(
      new PemsClient({ baseUrl: url, tenant: 'T' }).readPage('HOLNG', { cursor: 0, pageSize: 1 }),
    );
    expect(refused).toBeInstanceOf(PemsTransientError);

    const noKey = new PemsClient({ baseUrl: sim.url, tenant: 'TEST' });
    const unauthorized = await rejection(noKey.readPage(first.id, { cursor: 0, pageSize: 1 }));
    expect(unauthorized).toBeInstanceOf(PemsRequestError);
    expect((unauthorized as PemsRequestError).status).toBe(401);
    expect(isRetryable(unauthorized)).toBe(false);

    const unknownOrg = await rejection(client.readPage('NOPE', { cursor: 0, pageSize: 1 }));
    expect(unknownOrg).toBeInstanceOf(PemsRequestError);
  });

  it('rate-limits requests client-side with a token bucket', async () => {
    const bucket = new TokenBucket(50, 1);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => bucket.take()));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190); // 10 waits of 20 ms

    const limited = new PemsClient({
      baseUrl: sim.url,
      tenant: 'TEST',
      apiKey: API_KEY,
      rateLimitPerSecond: 20,
    });
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => limited.readPage(first.id, { cursor: i, pageSize: 1 })),
    );
    expect(performance.now() - t1).toBeGreaterThanOrEqual(200); // burst of 20, then 5 × 50 ms
  });
});
