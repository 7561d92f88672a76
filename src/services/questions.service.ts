import type {
  AggregateKeys,
  AggregateRepository,
  AggregateRow,
  FieldValueCount,
  GroupKey,
  ValueField,
} from '../repositories/aggregate.repository.js';
import { VALUE_FIELDS } from '../repositories/aggregate.repository.js';
import type { KpiRepository } from '../repositories/kpi.repository.js';
import type { MergeScope, RecordFilter } from '../repositories/record-query.js';

/** A note for the client in the response's top-level `extensions.hints`. */
export interface ValueHint {
  /** Where the value was given, e.g. `filter.category.eq`. */
  path: string;
  field: ValueField;
  value: string;
  message: string;
  /** Existing values closest to it, best first. */
  closest: FieldValueCount[];
}

/** At most this many exact values are checked for one answer (each reads the organization). */
const MAX_HINTED_VALUES = 5;
const CLOSEST = 5;
const VALUE_FIELD_SET: ReadonlySet<string> = new Set(VALUE_FIELDS);

/** Fields the KPI cache groups by: their value counts come from it when nothing else restricts. */
const KPI_FIELDS: ReadonlySet<ValueField> = new Set<ValueField>(['category', 'source', 'dor']);

/** Does the filter restrict anything beyond the defaults (discontinued and removed records hidden)? */
export function isUnrestricted(filter: RecordFilter | null | undefined): boolean {
  return !filter || Object.values(filter).every((v) => v === null || v === undefined);
}

/** Codepoint order, as SQL's `COLLATE "C"`: stable whatever the database's collation. */
const byCodepoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `eq` / `in` string values on value fields anywhere in a filter, with their paths. */
export function exactValues(
  filter: RecordFilter | null | undefined,
  path = 'filter',
): { path: string; field: ValueField; value: string }[] {
  if (!filter) return [];
  const out: { path: string; field: ValueField; value: string }[] = [];
  for (const [key, ops] of Object.entries(filter)) {
    if (ops === null || ops === undefined) continue;
    if (key === 'and' || key === 'or') {
      (ops as RecordFilter[]).forEach((f, i) => out.push(...exactValues(f, `${path}.${key}[${i}]`)));
    } else if (key === 'not') out.push(...exactValues(ops as RecordFilter, `${path}.not`));
    else if (VALUE_FIELD_SET.has(key) && typeof ops === 'object') {
      const o = ops as { eq?: unknown; in?: unknown };
      if (typeof o.eq === 'string')
        out.push({ path: `${path}.${key}.eq`, field: key as ValueField, value: o.eq });
      if (Array.isArray(o.in))
        o.in.forEach((v, i) => {
          if (typeof v === 'string')
            out.push({ path: `${path}.${key}.in[${i}]`, field: key as ValueField, value: v });
        });
    }
  }
  return out;
}

/** Totals, value discovery and hints over the caller's view (issue 12 points 1 and 2). */
export class QuestionsService {
  constructor(
    private readonly aggregates: AggregateRepository,
    private readonly kpi: KpiRepository,
  ) {}

  /**
   * Totals per group. Without a filter, grouped by nothing or by CATEGORY / SOURCE / DOR, and when
   * the forecast bounds are not asked for, they are summed from the KPI cache as `kpiSummary`
   * corrects it for the caller (~90 cached rows instead of a pass over the organization); else one
   * SQL aggregate over the merge (AggregateRepository.aggregate).
   */
  async aggregate(
    scope: MergeScope,
    filter: RecordFilter | null,
    groupBy: readonly GroupKey[],
    needBounds = true,
  ): Promise<AggregateRow[]> {
    if (needBounds || !isUnrestricted(filter) || !groupBy.every((k) => KPI_FIELDS.has(k as ValueField)))
      return this.aggregates.aggregate(scope, filter, groupBy);
    const kpiKey = (k: GroupKey) => k as 'category' | 'source' | 'dor';
    const groups = new Map<string, AggregateRow>();
    for (const g of await this.kpi.kpiSummary(scope)) {
      const values = groupBy.map((k) => g[kpiKey(k)]);
      const id = JSON.stringify(values);
      const row = groups.get(id) ?? {
        ...emptyRow(),
        keys: Object.fromEntries(groupBy.map((k, i) => [k, values[i]])) as AggregateKeys,
      };
      row.recordCount += g.recordCount;
      row.actualizedCount += g.actualizedCount;
      row.totalPlanCost += g.totalPlanCost;
      row.totalForecastCost += g.totalForecastCost;
      row.totalActualCost += g.totalActualCost;
      row.totalVariance += g.totalVariance;
      groups.set(id, row);
    }
    const rows = [...groups.values()].filter((r) => r.recordCount > 0);
    const keyOrder = (a: string | null | undefined, b: string | null | undefined) =>
      a === b
        ? 0
        : a === null || a === undefined
          ? 1
          : b === null || b === undefined
            ? -1
            : byCodepoint(a, b);
    rows.sort((a, b) => {
      for (const k of groupBy) {
        const c = keyOrder(a.keys[kpiKey(k)], b.keys[kpiKey(k)]);
        if (c !== 0) return c;
      }
      return 0;
    });
    // Without keys the answer is one row, also when nothing counts.
    return groupBy.length > 0 || rows.length > 0 ? rows : [emptyRow()];
  }

  /**
   * Value counts of a field. With no filter, CATEGORY / SOURCE / DOR are summed from the KPI cache
   * as `kpiSummary` corrects it for the caller (pending commits after the refresh, own drafts):
   * exact, and ~90 cached rows instead of a pass over the organization. Otherwise one grouped
   * query over the merge with the filter inside both halves.
   */
  async fieldValues(
    scope: MergeScope,
    field: ValueField,
    filter: RecordFilter | null,
    search: string | null,
    first: number,
  ): Promise<FieldValueCount[]> {
    if (!(KPI_FIELDS.has(field) && isUnrestricted(filter)))
      return this.aggregates.fieldValues(scope, field, filter, search, first);
    const counts = new Map<string, number>();
    for (const g of await this.kpi.kpiSummary(scope)) {
      const value = g[field as 'category' | 'source' | 'dor'];
      if (value === null) continue;
      counts.set(value, (counts.get(value) ?? 0) + g.recordCount);
    }
    const needle = search?.toLowerCase() ?? null;
    return [...counts]
      .filter(([value, n]) => n > 0 && (needle === null || value.toLowerCase().includes(needle)))
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || byCodepoint(a.value, b.value))
      .slice(0, first);
  }

  /**
   * For an answer that came back empty: the exact values (`eq` / `in`) of the filter that no record
   * of the organization holds, each with the closest existing values.
   */
  async hints(scope: MergeScope, filter: RecordFilter | null | undefined): Promise<ValueHint[]> {
    const hints: ValueHint[] = [];
    const seen = new Set<string>();
    for (const x of exactValues(filter)) {
      const key = JSON.stringify([x.field, x.value]);
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > MAX_HINTED_VALUES) break;
      // A hint is a courtesy: when it cannot be had (statement timeout, a busy database), the
      // answer goes out without it rather than failing.
      const s = await this.aggregates.suggest(scope, x.field, x.value, CLOSEST).catch(() => null);
      if (s === null) break;
      if (s.exists) continue;
      const names = s.closest.map((c) => JSON.stringify(c.value)).join(', ');
      hints.push({
        ...x,
        closest: s.closest,
        message:
          `no record of ${scope.organizationId} has ${x.field} ${JSON.stringify(x.value)} (exact match, case matters)` +
          (names ? `; closest existing values: ${names}` : '') +
          `. List the values with fieldValues(field: ${constantCase(x.field)}) or filter with contains.`,
      });
    }
    return hints;
  }
}

const emptyRow = (): AggregateRow => ({
  keys: {},
  recordCount: 0,
  actualizedCount: 0,
  totalPlanCost: 0,
  totalForecastCost: 0,
  totalActualCost: 0,
  totalVariance: 0,
  minForecastStart: null,
  maxForecastEnd: null,
});

/** `areaSilo` → `AREA_SILO`. */
export function constantCase(key: string): string {
  return key.replace(/([A-Z])/g, '_$1').toUpperCase();
}
