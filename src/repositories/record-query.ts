/**
 * The session-scoped merge and the filter language of DOMAIN §5, compiled to parameterised SQL:
 *
 *   untouched: pfa_mirror rows with no pending delta and no draft of this session
 *              → filtered on the mirror's own indexed generated columns (an anti-join probe each)
 *   UNION ALL
 *   touched:   the few records with a pending delta or this session's draft
 *              → merged JSON re-parsed with the same SQL functions as the generated columns
 *
 * PostgreSQL cannot push an outer ORDER BY … LIMIT into UNION ALL members that have a WHERE clause
 * or a join, so readers that order and limit do it inside each half (MirrorRepository.findPage):
 * the untouched half is then an ordered index range scan that stops after the page.
 *
 *   record-query/fields.ts    the fields filters and orderings name, as SQL on `r`
 *   record-query/merge.ts     the merged relation (mergedSource, mergedBranches, pendingOverlay)
 *   record-query/filter.ts    PfaRecordFilter → condition
 *   record-query/ordering.ts  total orders, keyset conditions
 */
export * from './record-query/fields.js';
export * from './record-query/merge.js';
export * from './record-query/filter.js';
export * from './record-query/ordering.js';
