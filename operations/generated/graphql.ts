/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** How to settle a conflict. */
export type ConflictResolution =
  /** Drop my values; keep what PEMS / the organization has. */
  | 'ACCEPT_THEIRS'
  /** Commit my values on top of the current record (rebased). */
  | 'KEEP_MINE';

/** Editable keys of a record (DOMAIN §1). Omit a key to leave it; null is not allowed. */
export type PfaRecordChangesInput = {
  /** Area / silo. */
  areaSilo?: string | null | undefined;
  /** Equipment category. */
  category?: string | null | undefined;
  /** Equipment class. */
  class?: string | null | undefined;
  /** Contract. */
  contract?: string | null | undefined;
  /** Division of responsibility. */
  dor?: string | null | undefined;
  /** Equipment tag. */
  equipment?: string | null | undefined;
  /** Forecast end (≥ forecastStart on the merged record). */
  forecastEnd?: string | null | undefined;
  /** Forecast start. */
  forecastStart?: string | null | undefined;
  /** Discontinued. */
  isDiscontinued?: boolean | null | undefined;
  /** Funds transferable. */
  isFundsTransferable?: boolean | null | undefined;
  /** Manufacturer. */
  manufacturer?: string | null | undefined;
  /** Model. */
  model?: string | null | undefined;
  /** Monthly rate, ≥ 0, at most 2 decimals. */
  monthlyRate?: number | null | undefined;
  /** Purchase price, ≥ 0, at most 2 decimals. */
  purchasePrice?: number | null | undefined;
  /** `Rental` or `Purchase`. */
  source?: string | null | undefined;
};

/** States of a modification (DOMAIN §3). */
export type SyncState =
  /** Submitted; visible to the whole organization; waiting for write-back. */
  | 'COMMITTED'
  /** Open; PEMS or another session changed the same fields; needs resolveConflict. */
  | 'CONFLICT'
  /** Open, private to its session. */
  | 'DRAFT'
  /** Written back; done. */
  | 'SYNCED'
  /** Being written back to PEMS. */
  | 'SYNCING';

/** An edit of one record. */
export type UpdatePfaRecordInput = {
  /** Keys to change. */
  changes: PfaRecordChangesInput;
  /** `currentVersion` of the session's open draft of this record, 0 when there is none yet. */
  expectedVersion: number;
  /** `PfaRecord.id`. */
  id: string | number;
  /** Why (up to 500 characters); kept in the audit trail. */
  reason?: string | null | undefined;
};

export type EditRecordMutationVariables = Exact<{
  input: UpdatePfaRecordInput;
}>;


export type EditRecordMutation = { updatePfaRecord: { draft: { __typename: 'Draft', id: string, currentVersion: number, modifiedFields: Array<string> } | null, record: { __typename: 'PfaRecord', id: string, viewKey: string, pfaId: string, organizationId: string, monthlyRate: number | null, forecastStart: string | null, forecastEnd: string | null, version: number, draft: { __typename: 'Draft', id: string, currentVersion: number, syncState: SyncState } | null } } };

export type CommitDraftsMutationVariables = Exact<{
  organizationId: string | number;
}>;


export type CommitDraftsMutation = { commitDrafts: { committed: Array<{ __typename: 'Draft', id: string, syncState: SyncState }>, conflicted: Array<{ __typename: 'Draft', id: string, syncState: SyncState, conflicts: Array<{ field: string, base: unknown, theirs: unknown, mine: unknown }> }> } };

export type ResolveConflictMutationVariables = Exact<{
  id: string | number;
  resolution: ConflictResolution;
}>;


export type ResolveConflictMutation = { resolveConflict: { draft: { __typename: 'Draft', id: string, syncState: SyncState } | null, record: { __typename: 'PfaRecord', id: string, viewKey: string, pfaId: string, organizationId: string, monthlyRate: number | null, forecastStart: string | null, forecastEnd: string | null, version: number, draft: { __typename: 'Draft', id: string, currentVersion: number, syncState: SyncState } | null } } };

export type MyDraftsQueryVariables = Exact<{
  organizationId: string | number;
  allSessions?: boolean | null | undefined;
}>;


export type MyDraftsQuery = { drafts: Array<{ __typename: 'Draft', id: string, syncState: SyncState, conflicts: Array<{ field: string }> }> };

export type KpiChangedSubscriptionVariables = Exact<{
  organizationId: string | number;
}>;


export type KpiChangedSubscription = { kpiChanged: { organizationId: string, refreshedAt: string, changeSeq: number } };

export type DraftsChangedSubscriptionVariables = Exact<{
  organizationId: string | number;
}>;


export type DraftsChangedSubscription = { draftsChanged: { organizationId: string, sessionId: string, changeSeq: number, reason: string } };

export type RecordsPageQueryVariables = Exact<{
  organizationId: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type RecordsPageQuery = { pfaRecords: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ __typename: 'PfaRecord', id: string, viewKey: string, pfaId: string, organizationId: string, monthlyRate: number | null, forecastStart: string | null, forecastEnd: string | null, version: number, draft: { __typename: 'Draft', id: string, currentVersion: number, syncState: SyncState } | null }> } };

export type RecordQueryVariables = Exact<{
  id: string | number;
}>;


export type RecordQuery = { pfaRecord: { __typename: 'PfaRecord', id: string, viewKey: string, pfaId: string, organizationId: string, monthlyRate: number | null, forecastStart: string | null, forecastEnd: string | null, version: number, draft: { __typename: 'Draft', id: string, currentVersion: number, syncState: SyncState } | null } | null };

export type RecordViewFragment = { __typename: 'PfaRecord', id: string, viewKey: string, pfaId: string, organizationId: string, monthlyRate: number | null, forecastStart: string | null, forecastEnd: string | null, version: number, draft: { __typename: 'Draft', id: string, currentVersion: number, syncState: SyncState } | null };

export const RecordViewFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RecordView"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PfaRecord"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"viewKey"}},{"kind":"Field","name":{"kind":"Name","value":"pfaId"}},{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyRate"}},{"kind":"Field","name":{"kind":"Name","value":"forecastStart"}},{"kind":"Field","name":{"kind":"Name","value":"forecastEnd"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}}]}}]} as unknown as DocumentNode<RecordViewFragment, unknown>;
export const EditRecordDocument = {"__meta__":{"hash":"sha256:aacf7cc610e346945780d9e67ec0bbbd24ae078ae39d6eff455e80823cf52e5f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"EditRecord"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdatePfaRecordInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updatePfaRecord"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"modifiedFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"record"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RecordView"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RecordView"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PfaRecord"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"viewKey"}},{"kind":"Field","name":{"kind":"Name","value":"pfaId"}},{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyRate"}},{"kind":"Field","name":{"kind":"Name","value":"forecastStart"}},{"kind":"Field","name":{"kind":"Name","value":"forecastEnd"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}}]}}]} as unknown as DocumentNode<EditRecordMutation, EditRecordMutationVariables>;
export const CommitDraftsDocument = {"__meta__":{"hash":"sha256:323e72a6daf179b6e212774cc149fefe29cbaa28b3b22194aed2f9fa06da4666"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CommitDrafts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"commitDrafts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"organizationId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"committed"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}},{"kind":"Field","name":{"kind":"Name","value":"conflicted"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}},{"kind":"Field","name":{"kind":"Name","value":"conflicts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"base"}},{"kind":"Field","name":{"kind":"Name","value":"theirs"}},{"kind":"Field","name":{"kind":"Name","value":"mine"}}]}}]}}]}}]}}]} as unknown as DocumentNode<CommitDraftsMutation, CommitDraftsMutationVariables>;
export const ResolveConflictDocument = {"__meta__":{"hash":"sha256:ee3034bc5a8188a48e8ecbecf3ec0a05ead89533fa29c389ab1da47c1c73ad2c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ResolveConflict"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"resolution"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ConflictResolution"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resolveConflict"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"resolution"},"value":{"kind":"Variable","name":{"kind":"Name","value":"resolution"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}},{"kind":"Field","name":{"kind":"Name","value":"record"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RecordView"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RecordView"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PfaRecord"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"viewKey"}},{"kind":"Field","name":{"kind":"Name","value":"pfaId"}},{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyRate"}},{"kind":"Field","name":{"kind":"Name","value":"forecastStart"}},{"kind":"Field","name":{"kind":"Name","value":"forecastEnd"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}}]}}]} as unknown as DocumentNode<ResolveConflictMutation, ResolveConflictMutationVariables>;
export const MyDraftsDocument = {"__meta__":{"hash":"sha256:86165dbf750ae884559debe28acc72ed928fc7ee8576448b59bfd33746cb4c91"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MyDrafts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"allSessions"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"drafts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"organizationId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}}},{"kind":"Argument","name":{"kind":"Name","value":"allSessions"},"value":{"kind":"Variable","name":{"kind":"Name","value":"allSessions"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}},{"kind":"Field","name":{"kind":"Name","value":"conflicts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}}]}}]}}]}}]} as unknown as DocumentNode<MyDraftsQuery, MyDraftsQueryVariables>;
export const KpiChangedDocument = {"__meta__":{"hash":"sha256:e17d371d50d0faa04c96ca5757496f5eafcd724a9a21bfcdaa9bb8a6a9bf1268"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"KpiChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"kpiChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"organizationId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"refreshedAt"}},{"kind":"Field","name":{"kind":"Name","value":"changeSeq"}}]}}]}}]} as unknown as DocumentNode<KpiChangedSubscription, KpiChangedSubscriptionVariables>;
export const DraftsChangedDocument = {"__meta__":{"hash":"sha256:ebef758fdeee7c050f6540260de5a289fb158ff1cfd48bb544460ca71f2d63fe"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"DraftsChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"draftsChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"organizationId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"changeSeq"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}}]}}]} as unknown as DocumentNode<DraftsChangedSubscription, DraftsChangedSubscriptionVariables>;
export const RecordsPageDocument = {"__meta__":{"hash":"sha256:6dafbb2091568d34bf3ef64180e3ebaa40231bcec4f45571c7c5f7679f6ebd12"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RecordsPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pfaRecords"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"organizationId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"organizationId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RecordView"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RecordView"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PfaRecord"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"viewKey"}},{"kind":"Field","name":{"kind":"Name","value":"pfaId"}},{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyRate"}},{"kind":"Field","name":{"kind":"Name","value":"forecastStart"}},{"kind":"Field","name":{"kind":"Name","value":"forecastEnd"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}}]}}]} as unknown as DocumentNode<RecordsPageQuery, RecordsPageQueryVariables>;
export const RecordDocument = {"__meta__":{"hash":"sha256:b2a4db2e8c5c9c5abbbec6c85a29faa1a1809da69a3f8be1f0308e490ffbd0f0"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Record"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pfaRecord"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RecordView"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RecordView"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PfaRecord"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"viewKey"}},{"kind":"Field","name":{"kind":"Name","value":"pfaId"}},{"kind":"Field","name":{"kind":"Name","value":"organizationId"}},{"kind":"Field","name":{"kind":"Name","value":"monthlyRate"}},{"kind":"Field","name":{"kind":"Name","value":"forecastStart"}},{"kind":"Field","name":{"kind":"Name","value":"forecastEnd"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"draft"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"syncState"}}]}}]}}]} as unknown as DocumentNode<RecordQuery, RecordQueryVariables>;