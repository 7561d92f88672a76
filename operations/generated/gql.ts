/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation EditRecord($input: UpdatePfaRecordInput!) {\n  updatePfaRecord(input: $input) {\n    draft {\n      __typename\n      id\n      currentVersion\n      modifiedFields\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nmutation CommitDrafts($organizationId: ID!) {\n  commitDrafts(organizationId: $organizationId) {\n    committed {\n      __typename\n      id\n      syncState\n    }\n    conflicted {\n      __typename\n      id\n      syncState\n      conflicts {\n        field\n        base\n        theirs\n        mine\n      }\n    }\n  }\n}\n\nmutation ResolveConflict($id: ID!, $resolution: ConflictResolution!) {\n  resolveConflict(id: $id, resolution: $resolution) {\n    draft {\n      __typename\n      id\n      syncState\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nquery MyDrafts($organizationId: ID!, $allSessions: Boolean) {\n  drafts(organizationId: $organizationId, allSessions: $allSessions) {\n    __typename\n    id\n    syncState\n    conflicts {\n      field\n    }\n  }\n}": typeof types.EditRecordDocument,
    "subscription KpiChanged($organizationId: ID!) {\n  kpiChanged(organizationId: $organizationId) {\n    organizationId\n    refreshedAt\n    changeSeq\n  }\n}\n\nsubscription DraftsChanged($organizationId: ID!) {\n  draftsChanged(organizationId: $organizationId) {\n    organizationId\n    sessionId\n    changeSeq\n    reason\n  }\n}": typeof types.KpiChangedDocument,
    "query RecordsPage($organizationId: ID!, $first: Int, $after: String) {\n  pfaRecords(organizationId: $organizationId, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...RecordView\n    }\n  }\n}\n\nquery Record($id: ID!) {\n  pfaRecord(id: $id) {\n    ...RecordView\n  }\n}\n\nfragment RecordView on PfaRecord {\n  __typename\n  id\n  viewKey\n  pfaId\n  organizationId\n  monthlyRate\n  forecastStart\n  forecastEnd\n  version\n  draft {\n    __typename\n    id\n    currentVersion\n    syncState\n  }\n}": typeof types.RecordsPageDocument,
};
const documents: Documents = {
    "mutation EditRecord($input: UpdatePfaRecordInput!) {\n  updatePfaRecord(input: $input) {\n    draft {\n      __typename\n      id\n      currentVersion\n      modifiedFields\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nmutation CommitDrafts($organizationId: ID!) {\n  commitDrafts(organizationId: $organizationId) {\n    committed {\n      __typename\n      id\n      syncState\n    }\n    conflicted {\n      __typename\n      id\n      syncState\n      conflicts {\n        field\n        base\n        theirs\n        mine\n      }\n    }\n  }\n}\n\nmutation ResolveConflict($id: ID!, $resolution: ConflictResolution!) {\n  resolveConflict(id: $id, resolution: $resolution) {\n    draft {\n      __typename\n      id\n      syncState\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nquery MyDrafts($organizationId: ID!, $allSessions: Boolean) {\n  drafts(organizationId: $organizationId, allSessions: $allSessions) {\n    __typename\n    id\n    syncState\n    conflicts {\n      field\n    }\n  }\n}": types.EditRecordDocument,
    "subscription KpiChanged($organizationId: ID!) {\n  kpiChanged(organizationId: $organizationId) {\n    organizationId\n    refreshedAt\n    changeSeq\n  }\n}\n\nsubscription DraftsChanged($organizationId: ID!) {\n  draftsChanged(organizationId: $organizationId) {\n    organizationId\n    sessionId\n    changeSeq\n    reason\n  }\n}": types.KpiChangedDocument,
    "query RecordsPage($organizationId: ID!, $first: Int, $after: String) {\n  pfaRecords(organizationId: $organizationId, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...RecordView\n    }\n  }\n}\n\nquery Record($id: ID!) {\n  pfaRecord(id: $id) {\n    ...RecordView\n  }\n}\n\nfragment RecordView on PfaRecord {\n  __typename\n  id\n  viewKey\n  pfaId\n  organizationId\n  monthlyRate\n  forecastStart\n  forecastEnd\n  version\n  draft {\n    __typename\n    id\n    currentVersion\n    syncState\n  }\n}": types.RecordsPageDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation EditRecord($input: UpdatePfaRecordInput!) {\n  updatePfaRecord(input: $input) {\n    draft {\n      __typename\n      id\n      currentVersion\n      modifiedFields\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nmutation CommitDrafts($organizationId: ID!) {\n  commitDrafts(organizationId: $organizationId) {\n    committed {\n      __typename\n      id\n      syncState\n    }\n    conflicted {\n      __typename\n      id\n      syncState\n      conflicts {\n        field\n        base\n        theirs\n        mine\n      }\n    }\n  }\n}\n\nmutation ResolveConflict($id: ID!, $resolution: ConflictResolution!) {\n  resolveConflict(id: $id, resolution: $resolution) {\n    draft {\n      __typename\n      id\n      syncState\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nquery MyDrafts($organizationId: ID!, $allSessions: Boolean) {\n  drafts(organizationId: $organizationId, allSessions: $allSessions) {\n    __typename\n    id\n    syncState\n    conflicts {\n      field\n    }\n  }\n}"): (typeof documents)["mutation EditRecord($input: UpdatePfaRecordInput!) {\n  updatePfaRecord(input: $input) {\n    draft {\n      __typename\n      id\n      currentVersion\n      modifiedFields\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nmutation CommitDrafts($organizationId: ID!) {\n  commitDrafts(organizationId: $organizationId) {\n    committed {\n      __typename\n      id\n      syncState\n    }\n    conflicted {\n      __typename\n      id\n      syncState\n      conflicts {\n        field\n        base\n        theirs\n        mine\n      }\n    }\n  }\n}\n\nmutation ResolveConflict($id: ID!, $resolution: ConflictResolution!) {\n  resolveConflict(id: $id, resolution: $resolution) {\n    draft {\n      __typename\n      id\n      syncState\n    }\n    record {\n      ...RecordView\n    }\n  }\n}\n\nquery MyDrafts($organizationId: ID!, $allSessions: Boolean) {\n  drafts(organizationId: $organizationId, allSessions: $allSessions) {\n    __typename\n    id\n    syncState\n    conflicts {\n      field\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription KpiChanged($organizationId: ID!) {\n  kpiChanged(organizationId: $organizationId) {\n    organizationId\n    refreshedAt\n    changeSeq\n  }\n}\n\nsubscription DraftsChanged($organizationId: ID!) {\n  draftsChanged(organizationId: $organizationId) {\n    organizationId\n    sessionId\n    changeSeq\n    reason\n  }\n}"): (typeof documents)["subscription KpiChanged($organizationId: ID!) {\n  kpiChanged(organizationId: $organizationId) {\n    organizationId\n    refreshedAt\n    changeSeq\n  }\n}\n\nsubscription DraftsChanged($organizationId: ID!) {\n  draftsChanged(organizationId: $organizationId) {\n    organizationId\n    sessionId\n    changeSeq\n    reason\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query RecordsPage($organizationId: ID!, $first: Int, $after: String) {\n  pfaRecords(organizationId: $organizationId, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...RecordView\n    }\n  }\n}\n\nquery Record($id: ID!) {\n  pfaRecord(id: $id) {\n    ...RecordView\n  }\n}\n\nfragment RecordView on PfaRecord {\n  __typename\n  id\n  viewKey\n  pfaId\n  organizationId\n  monthlyRate\n  forecastStart\n  forecastEnd\n  version\n  draft {\n    __typename\n    id\n    currentVersion\n    syncState\n  }\n}"): (typeof documents)["query RecordsPage($organizationId: ID!, $first: Int, $after: String) {\n  pfaRecords(organizationId: $organizationId, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...RecordView\n    }\n  }\n}\n\nquery Record($id: ID!) {\n  pfaRecord(id: $id) {\n    ...RecordView\n  }\n}\n\nfragment RecordView on PfaRecord {\n  __typename\n  id\n  viewKey\n  pfaId\n  organizationId\n  monthlyRate\n  forecastStart\n  forecastEnd\n  version\n  draft {\n    __typename\n    id\n    currentVersion\n    syncState\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;