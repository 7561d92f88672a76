import { describe, expect, it } from '@jest/globals';
import { checkFilter } from '../src/domain/filter-limits.js';
import { recordSlips } from '../src/domain/slips.js';
import { constantCase, exactValues, isUnrestricted } from '../src/services/questions.service.js';

/** The pure parts of issue 12's questions: slip arithmetic, filter walking, filter checks. */

describe('recordSlips', () => {
  it('computes day differences, negative ones included, across month and leap-year ends', () => {
    expect(
      recordSlips({
        originalStart: '2024-02-28',
        originalEnd: '2024-03-31',
        forecastStart: '2024-02-20',
        forecastEnd: '2025-03-01',
      }),
    ).toEqual({ forecastSlipDays: 335, startSlipDays: -8, forecastDurationDays: 375, planDurationDays: 32 });
  });

  it('is null where a date is missing or not a date; ISO timestamps count as their UTC date', () => {
    expect(
      recordSlips({
        originalStart: '31/02/2025',
        originalEnd: '2025-06-01',
        forecastStart: '2025-03-01T23:30:00-05:00',
        forecastEnd: null,
      }),
    ).toEqual({
      forecastSlipDays: null,
      startSlipDays: null,
      forecastDurationDays: null,
      planDurationDays: null,
    });
    expect(
      recordSlips({ originalStart: '2025-01-01', forecastStart: '2025-03-01T23:30:00-05:00' }).startSlipDays,
    ).toBe(60);
  });
});

describe('exactValues', () => {
  it('finds eq and in values of value fields anywhere, with their paths, and nothing else', () => {
    expect(
      exactValues({
        category: { eq: 'Crane', contains: 'x' },
        pfaId: { eq: 'P-1' },
        and: [{ manufacturer: { in: ['Cat', 'Deere'] } }],
        or: [{ not: { areaSilo: { eq: 'North' } } }, { monthlyRate: { eq: 5 } }],
        isDiscontinued: true,
      }),
    ).toEqual([
      { path: 'filter.category.eq', field: 'category', value: 'Crane' },
      { path: 'filter.and[0].manufacturer.in[0]', field: 'manufacturer', value: 'Cat' },
      { path: 'filter.and[0].manufacturer.in[1]', field: 'manufacturer', value: 'Deere' },
      { path: 'filter.or[0].not.areaSilo.eq', field: 'areaSilo', value: 'North' },
    ]);
    expect(exactValues(null)).toEqual([]);
  });

  it('isUnrestricted and constantCase', () => {
    expect(isUnrestricted(null)).toBe(true);
    expect(isUnrestricted({})).toBe(true);
    expect(isUnrestricted({ category: null })).toBe(true);
    expect(isUnrestricted({ includeRemoved: true })).toBe(false);
    expect(isUnrestricted({ isDiscontinued: false })).toBe(false);
    expect(constantCase('areaSilo')).toBe('AREA_SILO');
    expect(constantCase('category')).toBe('CATEGORY');
  });
});

describe('checkFilter on the new fields', () => {
  const code = (filter: unknown): unknown => {
    try {
      checkFilter(filter);
      return null;
    } catch (e) {
      return (e as { code?: string }).code ?? e;
    }
  };

  it('slip and duration fields take whole numbers only', () => {
    expect(code({ forecastSlipDays: { gt: 0, in: [1, -2] }, planDurationDays: { isNull: true } })).toBeNull();
    expect(code({ forecastSlipDays: { gt: 1.5 } })).toBe('BAD_USER_INPUT');
    expect(code({ startSlipDays: { in: [1, 2 ** 31] } })).toBe('BAD_USER_INPUT');
    expect(code({ forecastDurationDays: { eq: '3' } })).toBe('BAD_USER_INPUT');
  });

  it('removedFromPemsAt takes instants (a Date from the scalar, or an ISO string)', () => {
    expect(code({ removedFromPemsAt: { gte: new Date('2026-03-01T10:00:00Z') } })).toBeNull();
    expect(code({ removedFromPemsAt: { lt: '2026-03-01T10:00:00.123Z', isNull: false } })).toBeNull();
    expect(code({ removedFromPemsAt: { gt: 'yesterday' } })).toBe('BAD_USER_INPUT');
    expect(code({ removedFromPemsAt: { gt: new Date(Number.NaN) } })).toBe('BAD_USER_INPUT');
    expect(code({ removedFromPemsAt: { eq: 5 } })).toBe('BAD_USER_INPUT');
  });
});
