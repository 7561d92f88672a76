import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { QUERY_FIELDS, castParam, fieldExpr, type Column, type ValueType } from './fields.js';
import { andAll, provenNonNull, type RecordFilter } from './filter.js';

/** Total orders over the merged relation and the keyset conditions that page through them. */

export interface OrderKey {
  field: string;
  desc: boolean;
}

interface PlannedKey extends OrderKey {
  expr: RawBuilder<unknown>;
  type: ValueType;
  nonNull: boolean;
  /** NULLs after every value (the contract's order); false in a reversed (backward) ordering. */
  nullsLast: boolean;
}

export interface Ordering {
  keys: PlannedKey[];
  orderBy: RawBuilder<unknown>;
  /** The same order over output columns sk0, sk1, … of a derived table `r` (sort key i as sk<i>). */
  outputOrderBy: RawBuilder<unknown>;
  signature: string;
}

/**
 * Total order: the requested keys, then id in the direction of the first key. NULLs last.
 * `backward` plans the exact reverse (every direction flipped, NULLs first), for `last`/`before`
 * pages; its signature is the forward one, so cursors work in both directions.
 */
export function planOrdering(
  orderBy: OrderKey[],
  filter: RecordFilter | null | undefined,
  backward = false,
): Ordering {
  const requested = orderBy.length ? orderBy : [{ field: 'id', desc: false }];
  const keys: PlannedKey[] = requested.map((k) => {
    const spec = QUERY_FIELDS[k.field] as Column;
    const nonNull =
      k.field === 'id' || k.field === 'pfaId' || spec.type === 'cost' || provenNonNull(filter, k.field);
    return { ...k, expr: fieldExpr(k.field), type: spec.type, nonNull, nullsLast: true };
  });
  if (!keys.some((k) => k.field === 'id')) {
    keys.push({
      field: 'id',
      desc: keys[0]?.desc ?? false,
      expr: fieldExpr('id'),
      type: 'id',
      nonNull: true,
      nullsLast: true,
    });
  }
  const signature = keys.map((k) => `${k.field}:${k.desc ? 'd' : 'a'}`).join(',');
  if (backward) for (const k of keys) Object.assign(k, { desc: !k.desc, nullsLast: false });
  // NULLS LAST is the contract; for a key proven non-null the NULLS clause is free, so pick the
  // one a plain btree walked backwards produces (DESC NULLS FIRST) and keep the index order usable.
  const orderSql = (expr: (k: PlannedKey, i: number) => RawBuilder<unknown>) =>
    sql.join(
      keys.map((k, i) =>
        k.desc
          ? k.nonNull || !k.nullsLast
            ? sql`${expr(k, i)} DESC NULLS FIRST`
            : sql`${expr(k, i)} DESC NULLS LAST`
          : k.nonNull || k.nullsLast
            ? sql`${expr(k, i)} ASC NULLS LAST`
            : sql`${expr(k, i)} ASC NULLS FIRST`,
      ),
    );
  return {
    keys,
    orderBy: orderSql((k) => k.expr),
    outputOrderBy: orderSql((_, i) => sql.ref(`r.sk${i}`)),
    signature,
  };
}

/** Keyset condition "strictly after this cursor position" in the ordering. */
export function afterCondition(ordering: Ordering, values: readonly unknown[]): RawBuilder<SqlBool> {
  const { keys } = ordering;
  const allNonNull = keys.every((k) => k.nonNull);
  const sameDirection = keys.every((k) => k.desc === keys[0]?.desc);
  if (allNonNull && sameDirection) {
    // Row comparison: an index range condition on (key…, id).
    const left = sql.join(keys.map((k) => k.expr));
    const right = sql.join(keys.map((k, i) => castParam(values[i], k.type)));
    return keys[0]?.desc ? sql<SqlBool>`(${left}) < (${right})` : sql<SqlBool>`(${left}) > (${right})`;
  }
  // General form: OR over i of (k1 = v1 AND … AND k(i-1) = v(i-1) AND ki after vi), NULLs last.
  const alternatives: RawBuilder<SqlBool>[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as PlannedKey;
    const v = values[i];
    const equalPrefix = keys.slice(0, i).map((p, j) => {
      const pv = values[j];
      return pv === null
        ? sql<SqlBool>`${p.expr} IS NULL`
        : sql<SqlBool>`${p.expr} = ${castParam(pv, p.type)}`;
    });
    let after: RawBuilder<SqlBool>;
    // NULLs last: nothing follows a NULL, NULLs follow every value; NULLs first: the reverse.
    if (v === null) after = k.nullsLast ? sql<SqlBool>`false` : sql<SqlBool>`${k.expr} IS NOT NULL`;
    else {
      const cmp = k.desc
        ? sql<SqlBool>`${k.expr} < ${castParam(v, k.type)}`
        : sql<SqlBool>`${k.expr} > ${castParam(v, k.type)}`;
      after = k.nonNull || !k.nullsLast ? cmp : sql<SqlBool>`(${cmp} OR ${k.expr} IS NULL)`;
    }
    alternatives.push(andAll([...equalPrefix, after]));
  }
  return sql<SqlBool>`(${sql.join(alternatives, sql` OR `)})`;
}
