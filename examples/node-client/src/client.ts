/**
 * A typed PFA Vanguard client in ~100 lines: GraphQL Code Generator's client preset turns
 * operations/*.graphql into TypedDocumentNodes (operations/generated/), so every result and
 * variable below is typed from schema.graphql. Requests carry the operation's sha256 hash
 * (Apollo's persisted-query extension): they run with PERSISTED_QUERIES=apq and =only alike.
 */
import { print, type OperationDefinitionNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CommitDraftsDocument,
  EditRecordDocument,
  KpiChangedDocument,
  RecordsPageDocument,
  ResolveConflictDocument,
  type KpiChangedSubscription,
} from '../../../operations/generated/graphql.js';

export interface Connection {
  baseUrl: string;
  token: string;
  /** The sandbox (X-Session-Id) edits go to. */
  session?: string;
}

function hashOf(doc: TypedDocumentNode<unknown, never>): string | undefined {
  const meta = (doc as { __meta__?: { hash?: string } }).__meta__;
  return meta?.hash?.replace(/^sha256:/, '');
}

/** One typed request: TResult and TVariables come from the document. */
export async function request<TResult, TVariables>(
  conn: Connection,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const hash = hashOf(document as TypedDocumentNode<unknown, never>);
  const res = await fetch(`${conn.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${conn.token}`,
      ...(conn.session ? { 'x-session-id': conn.session } : {}),
    },
    body: JSON.stringify({
      query: print(document),
      variables,
      ...(hash ? { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } : {}),
    }),
  });
  const body = (await res.json()) as {
    data?: TResult;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length)
    throw new Error(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  return body.data as TResult;
}

/** kpiChanged events of one organization until `stop()`. */
export function onKpiChanged(
  conn: Connection,
  organizationId: string,
  next: (event: KpiChangedSubscription['kpiChanged']) => void,
): { ready: Promise<void>; stop: () => Promise<void> } {
  const client = createClient({
    url: `${conn.baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${conn.token}` },
    lazy: false,
  });
  const ready = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  const name = (KpiChangedDocument.definitions[0] as OperationDefinitionNode).name?.value;
  client.subscribe<KpiChangedSubscription>(
    {
      query: print(KpiChangedDocument),
      variables: { organizationId },
      ...(name ? { operationName: name } : {}),
      // The hash lets PERSISTED_QUERIES=only run it (the manifest's text is normalised).
      extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(KpiChangedDocument as never) } },
    },
    { next: (r) => r.data && next(r.data.kpiChanged), error: () => undefined, complete: () => undefined },
  );
  return { ready, stop: () => client.dispose() as Promise<void> };
}

export { CommitDraftsDocument, EditRecordDocument, RecordsPageDocument, ResolveConflictDocument };
