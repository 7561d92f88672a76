import { describe, expect, it } from '@jest/globals';
import {
  legacyBoolean,
  legacyDate,
  legacyDelta,
  legacyFieldList,
  legacyMoney,
  legacyRecord,
  legacySessionId,
  legacyTimestamp,
} from '../src/legacy/values.js';

/** The predecessor's encodings → record keys (pure; the import tests cover the databases). */

describe('legacy values', () => {
  it('reads dates from integer ms, seconds, ISO text, YYYY-MM-DD and SQL timestamp text (UTC)', () => {
    expect(legacyDate(1764045280286)).toBe('2025-11-25');
    expect(legacyDate('1764045280286')).toBe('2025-11-25');
    expect(legacyDate(Date.UTC(2024, 1, 29) / 1000)).toBe('2024-02-29');
    expect(legacyDate('2024-02-29T23:30:00.000Z')).toBe('2024-02-29');
    expect(legacyDate('2024-02-29')).toBe('2024-02-29');
    expect(legacyDate('2024-02-29 23:30:00')).toBe('2024-02-29');
    expect(legacyDate('2024-02-29 23:30:00.123')).toBe('2024-02-29');
    expect(legacyDate('2024-03-01T01:00:00+02:00')).toBe('2024-02-29');
    expect(legacyDate('2024-03-01 01:00:00+02')).toBe('2024-02-29');
    expect(legacyDate(new Date(Date.UTC(2024, 1, 29, 23)))).toBe('2024-02-29');
    expect(legacyDate('soon')).toBe('soon');
    expect(legacyDate(null)).toBeNull();
  });

  it('keeps timestamps that are not record dates as ISO-8601', () => {
    expect(legacyTimestamp(1764045280286)).toBe('2025-11-25T04:34:40.286Z');
    expect(legacyTimestamp('2025-11-25 04:34:40.286')).toBe('2025-11-25T04:34:40.286Z');
  });

  it('reads booleans from 0/1 and true/false, money from REAL or numeric text', () => {
    expect([1, 0, 'true', 'FALSE', 't', true].map(legacyBoolean)).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
    expect(legacyBoolean('maybe')).toBe('maybe');
    expect([1250.5, '1250.50', ' 3 ', 'TBA', null].map(legacyMoney)).toEqual([
      1250.5,
      1250.5,
      3,
      'TBA',
      null,
    ]);
  });

  it('maps a pfa_mirror row: data JSON first, typed copies fill gaps, bookkeeping out, nulls out', () => {
    const r = legacyRecord(
      {
        id: 'm-1',
        organizationId: 'org-uuid',
        pfaId: 'P-1',
        data: JSON.stringify({
          pfaId: 'P-1',
          forecastStart: '2026-01-05T00:00:00.000Z',
          monthlyRate: '10.5',
          wbs: 'W',
        }),
        forecastStart: '2099-01-01 00:00:00',
        forecastEnd: '2026-02-01 00:00:00',
        category: null,
        pemsVersion: 42,
        version: 3,
        lastSyncedAt: '2025-01-01 00:00:00',
        lastModified: 1764045280286,
      },
      new Set(['lastModified']),
    );
    expect(r).toEqual({
      pfaId: 'P-1',
      pemsVersion: '42',
      data: {
        pfaId: 'P-1',
        forecastStart: '2026-01-05',
        forecastEnd: '2026-02-01',
        monthlyRate: 10.5,
        wbs: 'W',
        lastModified: '2025-11-25T04:34:40.286Z',
      },
    });
  });

  it('keeps only editable, well-typed keys of a delta', () => {
    expect(
      legacyDelta(
        JSON.stringify({
          forecastStart: '2026-03-01T00:00:00.000Z',
          monthlyRate: '99.10',
          isDiscontinued: 1,
          actualStart: '2025-01-01',
          source: 'Lease',
          wbs: 'x',
        }),
      ),
    ).toEqual({
      delta: { forecastStart: '2026-03-01', monthlyRate: 99.1, isDiscontinued: true },
      dropped: ['actualStart', 'source', 'wbs'],
    });
    expect(legacyFieldList('["a","b"]')).toEqual(['a', 'b']);
    expect(legacyFieldList('{a,b}')).toEqual(['a', 'b']);
  });

  it('derives one valid session id per (user, source session)', () => {
    const a = legacySessionId('jdoe', 'sess-A');
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(legacySessionId('jdoe', 'sess-A')).toBe(a);
    expect(legacySessionId('asmith', 'sess-A')).not.toBe(a);
    expect(legacySessionId('jdoe', null)).toMatch(/^legacy-none-[0-9a-f]{16}$/);
    const odd = legacySessionId('jdoe', 'weird session/ü'.repeat(10));
    expect(odd).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(legacySessionId('jdoe', '!!!')).not.toBe(legacySessionId('jdoe', '???'));
  });
});
