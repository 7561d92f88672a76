import { describe, expect, it } from '@jest/globals';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { precompiled } from '../src/db/precompiled.js';

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
