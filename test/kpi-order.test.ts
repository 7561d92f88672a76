import { describe, expect, it } from '@jest/globals';
import { sortGroups, type KpiGroup } from '../src/repositories/kpi.repository.js';

/** kpiSummary's order: the groups' keys in localeCompare order, as clients have always seen it. */
describe('sortGroups', () => {
  const values = [
    null,
    '',
    'Cranes',
    'cranes',
    'Crânes',
    'Zebra',
    'Ärger',
    'a,b',
    '"q"',
    'Trucks & Vehicles',
    '10',
    '9',
  ];
  const pick = (i: number) => values[(i * 7919) % values.length] ?? null;
  const group = (i: number): KpiGroup => ({
    category: pick(i),
    source: pick(i * 3 + 1),
    dor: pick(i * 5 + 2),
    totalPlanCost: i,
    totalForecastCost: 0,
    totalActualCost: 0,
    totalVariance: 0,
    recordCount: 1,
    actualizedCount: 0,
    refreshedAt: null,
  });

  it.each([0, 1, 2, 17, 90, 500])('orders %i groups as the key-by-key localeCompare did', (n) => {
    const groups = Array.from({ length: n }, (_, i) => group(i));
    const key = (g: KpiGroup) => JSON.stringify([g.category, g.source, g.dor]);
    const reference = [...groups].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sortGroups([...groups].reverse()).map(key)).toEqual(reference.map(key));
  });
});
