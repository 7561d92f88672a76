import { badInput } from './errors.js';
import { FIELD_BY_KEY } from './record-fields.js';
import { readDate } from './values.js';
import type { FieldConflict } from './draft.js';

/**
 * Pure rules of DOMAIN §3 for drafts: validation of edits, delta minimisation and field-level
 * conflict detection. The repositories apply them; tests exercise them without a database.
 */

export const MAX_REASON_LENGTH = 500;

/** JSON scalar equality as PostgreSQL's jsonb compares (numbers by value). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Checks an edit's keys and values (DOMAIN §1): only editable keys, no nulls, the right types,
 * money ≥ 0 with at most 2 decimals. Returns the changes as JSON values to store.
 */
export function validateChanges(changes: Record<string, unknown>, path = 'changes'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const spec = FIELD_BY_KEY.get(key);
    const at = `${path}.${key}`;
    if (!spec) throw badInput(`${at} is not a record field`, at);
    if (!spec.editable) throw badInput(`${at} is owned by PEMS and cannot be edited`, at);
    if (value === null) throw badInput(`${at} cannot be null (leave the key out to keep the value)`, at);
    switch (spec.type) {
      case 'text':
        if (typeof value !== 'string') throw badInput(`${at} must be a string`, at);
        if (value.length > 500) throw badInput(`${at} is longer than 500 characters`, at);
        if (key === 'source' && value !== 'Rental' && value !== 'Purchase')
          throw badInput(`${at} must be "Rental" or "Purchase"`, at);
        break;
      case 'money':
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw badInput(`${at} must be a number`, at);
        if (value < 0) throw badInput(`${at} must be ≥ 0`, at);
        if (Math.abs(Math.round(value * 100) - value * 100) > 1e-6)
          throw badInput(`${at} has more than 2 decimals`, at);
        if (value > 1e12) throw badInput(`${at} is too large`, at);
        break;
      case 'date':
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || readDate(value) !== value)
          throw badInput(`${at} must be a date YYYY-MM-DD`, at);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw badInput(`${at} must be a Boolean`, at);
        break;
    }
    out[key] = value;
  }
  return out;
}

export function validateReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  if (reason.length > MAX_REASON_LENGTH)
    throw badInput(`reason is ${reason.length} characters; at most ${MAX_REASON_LENGTH}`, 'reason');
  return reason;
}

/** forecastEnd ≥ forecastStart on the record as it would be after the edit. */
export function checkForecastOrder(merged: Record<string, unknown>): void {
  const start = readDate(merged.forecastStart);
  const end = readDate(merged.forecastEnd);
  if (start !== null && end !== null && end < start)
    throw badInput(`forecastEnd (${end}) is before forecastStart (${start})`, 'changes.forecastEnd');
}

/**
 * The delta a session keeps: its previous delta overlaid by the new changes, without the keys
 * whose value equals what the session would see without a draft (mirror + pending).
 */
export function minimiseDelta(
  previous: Record<string, unknown>,
  changes: Record<string, unknown>,
  baseline: Record<string, unknown>,
): Record<string, unknown> {
  const wanted = { ...previous, ...changes };
  const delta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (!sameJson(value, baseline[key])) delta[key] = value;
  }
  return delta;
}

/**
 * Fields in real conflict (DOMAIN §3): since the draft's base, PEMS or another session's pending
 * change moved the field (`theirs` ≠ base) to a value other than the draft's (`theirs` ≠ mine).
 */
export function detectConflicts(
  delta: Record<string, unknown>,
  baseValues: Record<string, unknown>,
  theirs: Record<string, unknown>,
): FieldConflict[] {
  const conflicts: FieldConflict[] = [];
  for (const field of Object.keys(delta)) {
    const base = baseValues[field] ?? null;
    const their = theirs[field] ?? null;
    const mine = delta[field] ?? null;
    if (!sameJson(their, base) && !sameJson(their, mine)) {
      conflicts.push({ field, base, theirs: their, mine });
    }
  }
  return conflicts;
}

/** Base values of a delta's keys taken from a record's data (missing keys are null). */
export function baseValuesOf(
  delta: Record<string, unknown>,
  data: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(Object.keys(delta).map((k) => [k, data[k] ?? null]));
}

/** The conflict of a draft whose record PEMS no longer has (DOMAIN §3): nothing to write back to. */
export function removedConflict(removedFromPemsAt: Date): FieldConflict {
  return { field: 'removedFromPemsAt', base: null, theirs: removedFromPemsAt.toISOString(), mine: null };
}
