import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { RecordCosts } from '../domain/costs.js';
import type { MergedRecord } from '../domain/merged-record.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import type { RecordValues } from '../domain/record-values.js';
import type { RecordSlips } from '../domain/slips.js';
import type { MergeScope } from '../repositories/record-query.js';
import { PROJECTABLE_FIELDS, type ProjectedField } from '../repositories/record-json.js';
import { RawJson } from './raw-json.js';

export { completesRawJson } from './raw-json.js';

/**
 * Projected pages (issue 11): a `pfaRecords` page whose `nodes` select only plain fields has its
 * untouched records written as JSON by PostgreSQL (src/repositories/record-json.ts); each such
 * record reaches the answer as a ProjectedRecord, which the compiled executor places as it is
 * (src/graphql/fast-execute.ts) and stringifyResponse splices in.
 *
 * A ProjectedRecord is also a MergedRecord for the fields it carries, read back from its JSON, so
 * whatever completes it the ordinary way (graphql-js, when a request falls back to it after the
 * resolver ran) gets the same values through the PfaRecord resolvers.
 */

/**
 * The fields of a `pfaRecords` selection that a projected page carries, in answer order, or null
 * when the selection is not one: `nodes` exactly once, no `edges`, no fragments or directives at
 * the connection and record levels, only projectable fields without arguments under `nodes`, and
 * response keys PostgreSQL keeps as they are (at most 63 bytes, not `__proto__`).
 */
export function projectedFields(info: GraphQLResolveInfo): ProjectedField[] | null {
  if (info.fieldNodes.length !== 1) return null;
  let nodes: SelectionSetNode | undefined;
  for (const selection of info.fieldNodes[0]?.selectionSet?.selections ?? []) {
    if (selection.kind !== 'Field' || (selection.directives?.length ?? 0) > 0) return null;
    const name = selection.name.value;
    if (name === 'edges') return null;
    if (name === 'nodes') {
      if (nodes || !selection.selectionSet) return null;
      nodes = selection.selectionSet;
    }
  }
  if (!nodes) return null;
  const fields: ProjectedField[] = [];
  const byKey = new Map<string, string>();
  for (const selection of nodes.selections) {
    if (!plainField(selection)) return null;
    const field = selection.name.value;
    const key = selection.alias?.value ?? field;
    const seen = byKey.get(key);
    if (seen !== undefined) {
      if (seen !== field) return null;
      continue; // the same field twice: one key, at its first place
    }
    if (!PROJECTABLE_FIELDS.has(field) || key === '__proto__' || Buffer.byteLength(key) > 63) return null;
    byKey.set(key, field);
    fields.push({ key, field });
  }
  return fields.length > 0 ? fields : null;
}

function plainField(selection: SelectionSetNode['selections'][number]): selection is FieldNode {
  return (
    selection.kind === 'Field' &&
    (selection.directives?.length ?? 0) === 0 &&
    (selection.arguments?.length ?? 0) === 0 &&
    !selection.selectionSet
  );
}

/** The record keys (DOMAIN §1): the fields of RecordValues. */
const VALUE_KEYS: ReadonlySet<string> = new Set(RECORD_FIELDS.map((f) => f.key));

/** An untouched record of a projected page: its JSON text, and the record it stands for. */
export class ProjectedRecord extends RawJson implements MergedRecord {
  #fields: Record<string, unknown> | null = null;

  constructor(
    text: string,
    readonly id: string,
    private readonly projected: readonly ProjectedField[],
    private readonly scope: MergeScope,
  ) {
    super(text);
  }

  /** The carried fields by field name (response keys mapped back). */
  private byField(): Record<string, unknown> {
    if (this.#fields === null) {
      const json = this.value() as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const { key, field } of this.projected) out[field] = json[key];
      this.#fields = out;
    }
    return this.#fields;
  }

  private pick<T>(keys: Iterable<string>): T {
    const fields = this.byField();
    const out: Record<string, unknown> = {};
    for (const k of keys) if (k in fields) out[k] = fields[k];
    return out as T;
  }

  get organizationId(): string {
    return this.scope.organizationId;
  }
  get sessionId(): string | null {
    return this.scope.sessionId;
  }
  /** Untouched: no modification, so no draft of the caller's either. */
  get draftId(): null {
    return null;
  }
  get pfaId(): string {
    return this.byField().pfaId as string;
  }
  get version(): number {
    return this.byField().version as number;
  }
  get pemsVersion(): string | null {
    return this.byField().pemsVersion as string | null;
  }
  get values(): RecordValues {
    return this.pick<RecordValues>(VALUE_KEYS);
  }
  get costs(): RecordCosts {
    return this.pick<RecordCosts>(['planCost', 'forecastCost', 'actualCost', 'variance']);
  }
  get slips(): RecordSlips {
    return this.pick<RecordSlips>([
      'forecastSlipDays',
      'startSlipDays',
      'forecastDurationDays',
      'planDurationDays',
    ]);
  }
  // Fields a projected page never carries (projectedFields refuses selections of them).
  get data(): Record<string, unknown> | null {
    throw new Error('a projected record carries no document');
  }
  get lastSyncedAt(): Date {
    throw new Error('a projected record carries no lastSyncedAt');
  }
  get removedFromPemsAt(): Date | null {
    throw new Error('a projected record carries no removedFromPemsAt');
  }
}
