import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * Issue 10, class 1 ("bounded cost for every request"): the probes that got through, replayed
 * against a running service. Each is refused before anything runs; the standard introspection
 * queries of GraphiQL and of client tools still pass.
 */

let app: TestApp;
let viewer: string;

beforeAll(async () => {
  app = await startTestApp();
  await insertRecords(app.database.db, 'HOLNG', 120);
  viewer = await app.token('viewer', ['HOLNG']);
});

afterAll(async () => {
  await app?.close();
});

async function post(query: string, variables?: Record<string, unknown>) {
  return app.gql(query, { token: viewer, ...(variables ? { variables } : {}) });
}

const RECORD_SCALARS = `id pfaId category class source dor areaSilo manufacturer model contract equipment
  monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd actualStart actualEnd
  isActualized hasActuals hasPlan isDiscontinued isFundsTransferable version pemsVersion lastSyncedAt
  planCost forecastCost actualCost variance data`;

describe('introspection counts toward the alias and cost limits', () => {
  it('refuses 1,000 aliased __schema selections before executing them', async () => {
    const selections = Array.from(
      { length: 1000 },
      (_, i) => `s${i}: __schema { types { name fields { name type { name } } } }`,
    );
    const r = await post(`{ ${selections.join('\n')} }`);
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    // Refused while parsing: 16,000 tokens is more than any real client's document.
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(r.errors?.[0]?.message).toMatch(/10000 tokens/);
  });

  it('refuses 21 aliased full __schema selections, admits 20 aliased __type', async () => {
    const r = await post(
      `{ ${Array.from({ length: 21 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join(' ')} }`,
    );
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.errors?.[0]?.message).toMatch(/21 aliases/);
  });

  it('refuses 21 aliased __type selections, admits 20', async () => {
    const many = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `t${i}: __type(name: "PfaRecord") { name }`).join(' ')} }`;
    const refused = await post(many(21));
    expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused.errors?.[0]?.message).toMatch(/21 aliases/);
    const admitted = await post(many(20));
    expect(admitted.errors).toBeUndefined();
  });

  it('counts introspection in the cost: a full page plus five full introspections is refused', async () => {
    const full = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true });
    const fragments = full.slice(full.indexOf('fragment FullType'));
    const schemaSelection = full.slice(full.indexOf('__schema'), full.indexOf('fragment FullType'));
    const body = schemaSelection.slice(0, schemaSelection.lastIndexOf('}'));
    const page = `pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { ${RECORD_SCALARS} } }`;
    const introspections = Array.from({ length: 5 }, (_, i) => `i${i}: ${body}`).join('\n');
    const r = await post(`{ ${page} ${introspections} } ${fragments}`);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.errors?.[0]?.message).toMatch(/cost/);
    const alone = await post(`{ ${page} }`);
    expect(alone.errors).toBeUndefined();
  });

  it("admits GraphiQL's introspection query and graphql-js's with every option", async () => {
    const graphiql = getIntrospectionQuery({ inputValueDeprecation: false, schemaDescription: false });
    const everything = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    for (const query of [graphiql, everything]) {
      const r = await post(query);
      expect(r.errors).toBeUndefined();
      expect((r.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
    }
  });
});

describe('the cost estimate uses the values the request runs with', () => {
  const fourteenPages = (first: string) =>
    Array.from(
      { length: 14 },
      (_, i) => `p${i}: pfaRecords(organizationId: "HOLNG", first: ${first}) { nodes { ${RECORD_SCALARS} } }`,
    ).join('\n');

  it('refuses query($n: Int = 1000) with 14 aliased full pages when no variables are sent', async () => {
    const r = await post(`query($n: Int = 1000) { ${fourteenPages('$n')} }`);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.errors?.[0]?.message).toMatch(/cost/);
  });

  it('refuses the same with the value sent as a variable', async () => {
    const r = await post(`query($n: Int) { ${fourteenPages('$n')} }`, { n: 1000 });
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('counts the default first (100) when first is omitted, and a default above 1000 is BAD_USER_INPUT', async () => {
    const omitted = Array.from(
      { length: 16 },
      (_, i) => `p${i}: pfaRecords(organizationId: "HOLNG") { nodes { ${RECORD_SCALARS} } }`,
    ).join(' ');
    const r = await post(`{ ${omitted} }`);
    expect(r.errors?.[0]?.message).toMatch(/cost/);
    const big = await post(
      `query($n: Int = 5000) { pfaRecords(organizationId: "HOLNG", first: $n) { nodes { id } } }`,
    );
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('still admits one full page of every scalar', async () => {
    const r = await post(
      `query($n: Int = 1000) { pfaRecords(organizationId: "HOLNG", first: $n) { nodes { ${RECORD_SCALARS} } } }`,
    );
    expect(r.errors).toBeUndefined();
  });
});

describe('filters: every branch counts and operands are bounded', () => {
  const query = `query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f, first: 5) { nodes { id } } }`;

  async function refused(filter: unknown) {
    const r = await post(query, { f: filter });
    expect(r.data ?? null).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return r.errors?.[0];
  }

  it('refuses a contains operand of 10 KB', async () => {
    const e = await refused({ manufacturer: { contains: 'a'.repeat(10_000) } });
    expect(e?.message).toMatch(/at most 200/);
    expect(e?.extensions?.argument).toBe('filter.manufacturer.contains');
  });

  it('refuses 5,000 search ORs', async () => {
    const e = await refused({ or: Array.from({ length: 5000 }, (_, i) => ({ search: `w${i}` })) });
    expect(e?.message).toMatch(/conditions/);
  });

  it('refuses 3,000 dataContains ORs', async () => {
    await refused({ or: Array.from({ length: 3000 }, (_, i) => ({ dataContains: { model: `M${i}` } })) });
  });

  it('refuses 50,000 empty {} ORs', async () => {
    await refused({ or: Array.from({ length: 50_000 }, () => ({})) });
  });

  it('refuses 600 hasDraft ORs', async () => {
    await refused({ or: Array.from({ length: 600 }, () => ({ hasDraft: false })) });
  });

  it('refuses a dataContains that is too big or too deep', async () => {
    await refused({ dataContains: { model: 'x'.repeat(5000) } });
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 10; i++) deep = { a: deep };
    await refused({ dataContains: deep });
  });

  it('admits the largest filters inside the limits', async () => {
    const r = await post(query, {
      f: {
        or: Array.from({ length: 100 }, (_, i) => ({
          search: `w${i}`,
          manufacturer: { contains: 'x'.repeat(200) },
        })),
      },
    });
    expect(r.errors).toBeUndefined();
  });
});

describe('reads run under a shorter statement timeout than writes', () => {
  it('gives read queries READ_STATEMENT_TIMEOUT_MS and leaves writes at STATEMENT_TIMEOUT_MS', async () => {
    const { rows: read } = await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(
      app.services.readDb,
    );
    expect(read[0]?.t).toBe('5s');
    const { rows: write } = await sql<{
      t: string;
    }>`SELECT current_setting('statement_timeout') AS t`.execute(app.services.db);
    expect(write[0]?.t).not.toBe('5s');
  });

  it('cancels a slow read with a clear error, not INTERNAL', async () => {
    const quick = await startTestApp({ database: app.database, env: { READ_STATEMENT_TIMEOUT_MS: '100' } });
    try {
      await expect(sql`SELECT pg_sleep(0.5)`.execute(quick.services.readDb)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
      // The setting was local to that transaction: the pooled connection is back to the default.
      const { rows } = await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(
        app.database.db,
      );
      expect(rows[0]?.t).not.toBe('100ms');
    } finally {
      await quick.close();
    }
  });
});
