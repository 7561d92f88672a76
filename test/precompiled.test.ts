import { describe, expect, it } from '@jest/globals';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { precompiled, precompiledStatement } from '../src/db/precompiled.js';

/** Compiles without a database (PostgreSQL's dialect, no connection is made). */
const db = new Kysely<Record<string, never>>({
  dialect: new PostgresDialect({ pool: {} as never }),
});

describe('precompiled: a constant fragment compiled once', () => {
  it('writes the same text in a statement as the fragment itself, parameters around it in place', () => {
    const fragment = sql`${sql.ref('r.area_silo')} AS ${sql.ref('areaSilo')}, CASE WHEN d.delta ? ${sql.lit('x')} THEN 1 END`;
    const statement = (part: ReturnType<typeof sql>) => sql`SELECT ${1}, ${part}, ${'two'}`.compile(db);
    const plain = statement(fragment);
    const once = statement(precompiled(fragment));
    expect(once.sql).toBe(plain.sql);
    expect(once.parameters).toEqual([1, 'two']);
    expect(once.sql).toBe(`SELECT $1, "r"."area_silo" AS "areaSilo", CASE WHEN d.delta ? 'x' THEN 1 END, $2`);
  });

  it('refuses a fragment with a parameter (its place would be lost)', () => {
    expect(() => precompiled(sql`r.category = ${'Cranes'}`)).toThrow(/has parameters/);
  });
});

describe('precompiledStatement: a whole statement compiled once per shape', () => {
  const read = precompiledStatement(({ org, session }: { org: string; session: string | null }) =>
    session === null
      ? sql`SELECT * FROM t WHERE org = ${org} AND n > ${3}`
      : sql`SELECT * FROM t WHERE org = ${org} AND s = ${session} AND o2 = ${org} AND n > ${3}`,
  );

  it("puts each call's arguments in their places, constants kept, for each shape", () => {
    const a = read({ org: 'HOLNG', session: 's-1' });
    expect(a.sql).toBe('SELECT * FROM t WHERE org = $1 AND s = $2 AND o2 = $3 AND n > $4');
    expect(a.parameters).toEqual(['HOLNG', 's-1', 'HOLNG', 3]);
    const b = read({ org: 'RIVBR', session: 's-2' });
    expect(b.sql).toBe(a.sql);
    expect(b.parameters).toEqual(['RIVBR', 's-2', 'RIVBR', 3]);
    const c = read({ org: 'RIVBR', session: null });
    expect(c.sql).toBe('SELECT * FROM t WHERE org = $1 AND n > $2');
    expect(c.parameters).toEqual(['RIVBR', 3]);
    // The same text as compiling the statement anew each time.
    expect(sql`SELECT * FROM t WHERE org = ${'X'} AND n > ${3}`.compile(db).sql).toBe(c.sql);
  });

  it('refuses a builder that uses an argument other than as a whole parameter', () => {
    const inText = precompiledStatement(({ org }: { org: string }) => sql`SELECT ${sql.lit(org)}`);
    expect(() => inText({ org: 'HOLNG' })).toThrow(/other than as a whole parameter/);
    const computed = precompiledStatement(({ org }: { org: string }) => sql`SELECT ${`${org}-x`}`);
    expect(() => computed({ org: 'HOLNG' })).toThrow(/other than as a whole parameter/);
    const json = precompiledStatement(
      ({ org }: { org: string }) => sql`SELECT ${JSON.stringify([org])}::jsonb`,
    );
    expect(() => json({ org: 'HOLNG' })).toThrow(/other than as a whole parameter/);
  });
});
