import type http from 'node:http';
import {
  coerceInputValue,
  GraphQLList,
  GraphQLNonNull,
  isInputType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/tokens.js';
import { isConnectionError } from '../db/database.js';
import { DomainError, badInput } from '../domain/errors.js';
import {
  DEFAULT_EXPORT_FIELDS,
  EXPORT_FIELDS,
  csvLine,
  ndjsonLine,
  rowValues,
  type ExportRecord,
} from '../domain/export-format.js';
import { createContext, SESSION_HEADER } from '../graphql/context.js';
import {
  DOMAIN_HTTP_STATUS,
  domainErrorBody,
  isServiceUnavailable,
  SERVICE_UNAVAILABLE_MESSAGE,
} from '../graphql/errors.js';
import {
  ExportRepository,
  type ExportChunk,
  type ExportCursor,
  type RecordWriter,
} from '../repositories/export.repository.js';
import { parseOrderBy } from '../graphql/order-by.js';
import { planOrdering, type RecordFilter } from '../repositories/record-query.js';
import type { Services } from '../services.js';

/** Longest `filter` parameter accepted (the GraphQL body limit is far larger; a URL is not). */
const MAX_FILTER_CHARS = 100_000;

function sendError(
  res: http.ServerResponse,
  status: number,
  error: { message: string; extensions: Record<string, unknown> },
): void {
  const text = JSON.stringify({ errors: [error] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface ExportRequest {
  organizationId: string;
  format: 'csv' | 'ndjson';
  filter: RecordFilter | null;
  orderBy: string[];
  fields: string[];
  bom: boolean;
}

/** Coerces a value to a schema input type exactly as GraphQL would for a variable. */
function coerce(type: GraphQLInputType, value: unknown, argument: string): unknown {
  const problems: string[] = [];
  const result = coerceInputValue(value, type, (path, _invalid, error) => {
    if (problems.length < 5) problems.push(`${[argument, ...path].join('.')}: ${error.message}`);
  });
  if (problems.length) throw badInput(problems.join('; '), argument);
  return result;
}

/** The query string of GET /export, checked with the schema's own input types. */
export function parseExportRequest(schema: GraphQLSchema, params: URLSearchParams): ExportRequest {
  for (const key of params.keys())
    if (!['organizationId', 'format', 'filter', 'orderBy', 'fields', 'bom'].includes(key))
      throw badInput(
        `unknown parameter ${key}; known: organizationId, format, filter, orderBy, fields, bom`,
        key,
      );
  const organizationId = params.get('organizationId');
  if (!organizationId)
    throw badInput('organizationId is required (e.g. organizationId=HOLNG)', 'organizationId');
  const format = params.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson')
    throw badInput(`format must be csv or ndjson, got "${format.slice(0, 20)}"`, 'format');
  let filter: RecordFilter | null = null;
  const rawFilter = params.get('filter');
  if (rawFilter) {
    if (rawFilter.length > MAX_FILTER_CHARS)
      throw badInput(`filter is longer than ${MAX_FILTER_CHARS} characters`, 'filter');
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawFilter);
    } catch {
      throw badInput('filter is not valid JSON (a PfaRecordFilter object, as in pfaRecords)', 'filter');
    }
    const filterType = schema.getType('PfaRecordFilter');
    if (!filterType || !isInputType(filterType)) throw new Error('schema has no PfaRecordFilter input');
    filter = coerce(filterType, parsed, 'filter') as RecordFilter | null;
  }
  const orderType = schema.getType('PfaRecordOrderBy');
  if (!orderType || !isInputType(orderType)) throw new Error('schema has no PfaRecordOrderBy enum');
  const orderList = (params.get('orderBy') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const orderBy = coerce(new GraphQLList(new GraphQLNonNull(orderType)), orderList, 'orderBy') as string[];
  const fieldList = (params.get('fields') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of fieldList)
    if (!EXPORT_FIELDS[f])
      throw badInput(
        `unknown field ${f.slice(0, 40)}; fields are PfaRecord scalar fields: ${DEFAULT_EXPORT_FIELDS.join(', ')}`,
        'fields',
      );
  if (new Set(fieldList).size !== fieldList.length) throw badInput('fields names a field twice', 'fields');
  const bomText = params.get('bom') ?? 'false';
  if (!['true', 'false', '1', '0'].includes(bomText)) throw badInput('bom must be true or false', 'bom');
  return {
    organizationId,
    format,
    filter,
    orderBy,
    fields: fieldList.length ? fieldList : [...DEFAULT_EXPORT_FIELDS],
    bom: bomText === 'true' || bomText === '1',
  };
}

/**
 * The JavaScript writer of one line, for the rare record PostgreSQL leaves to it (RecordWriter);
 * every other line comes finished from the database.
 */
function recordWriter(format: 'csv' | 'ndjson', fields: readonly string[]): RecordWriter {
  const values = rowValues(fields);
  return format === 'csv'
    ? (r: ExportRecord) => csvLine(values(r))
    : (r: ExportRecord) => ndjsonLine(fields, values(r));
}

/** Resolves when the response can take more data, or when the client has gone. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * GET /export: the caller's merged view (filter, order, session drafts exactly as `pfaRecords`)
 * as CSV or ndjson, streamed from a server-side cursor with backpressure; PostgreSQL writes the
 * lines (ExportRepository), this handler sends them. Every failure before the first byte is a
 * JSON error (400/401/403/404/503); a failure after it aborts the response (the socket is
 * destroyed), so a client never takes a cut-off export for a complete one.
 */
export function createExportHandler(deps: {
  services: Services;
  tokens: TokenVerifier;
  schema: GraphQLSchema;
  log: Logger;
}): (req: http.IncomingMessage, res: http.ServerResponse, url: URL, requestId: string) => Promise<void> {
  const { services, tokens, schema, log } = deps;
  const repository = new ExportRepository(services.db, services.pool);

  return async (req, res, url, requestId) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const reqLog = log.child({ requestId });
    let cursor: ExportCursor;
    let request: ExportRequest;
    try {
      const principal = await tokens.verify(req.headers.authorization);
      request = parseExportRequest(schema, url.searchParams);
      const sessionHeader = req.headers[SESSION_HEADER];
      const ctx = createContext({
        requestId,
        principal,
        sessionHeader: typeof sessionHeader === 'string' ? sessionHeader : null,
        services,
        log: reqLog,
      });
      const scope = await ctx.scope(request.organizationId);
      const ordering = planOrdering(parseOrderBy(request.orderBy), request.filter);
      cursor = await repository.open(
        scope,
        request.filter,
        ordering,
        request,
        recordWriter(request.format, request.fields),
      );
    } catch (e) {
      if (e instanceof DomainError) return sendError(res, DOMAIN_HTTP_STATUS[e.code], domainErrorBody(e));
      if (isServiceUnavailable(e) || isConnectionError(e)) {
        reqLog.warn({ err: e }, 'export: database unavailable');
        return sendError(res, 503, {
          message: SERVICE_UNAVAILABLE_MESSAGE,
          extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
        });
      }
      throw e;
    }

    const { format, fields } = request;
    res.writeHead(200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="${request.organizationId}-pfa-records.${format}"`,
      'cache-control': 'no-store',
      'x-request-id': requestId,
    });
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) gone = true;
    });
    let rows = 0;
    let pending: Promise<ExportChunk> | null = null;
    try {
      let head = request.bom && format === 'csv' ? '\uFEFF' : '';
      if (format === 'csv') head += csvLine(fields);
      if (head && !res.write(head)) await drained(res);
      let batch = cursor.first;
      while (batch.rows > 0 && !gone) {
        // The next batch is read while this one is sent: PostgreSQL and the socket work at once.
        const next = cursor.next();
        next.catch(() => undefined); // observed below; never an unhandled rejection meanwhile
        pending = next;
        rows += batch.rows;
        if (!res.write(batch.text)) await drained(res);
        if (gone) break;
        batch = await next;
        pending = null;
      }
      if (gone) {
        reqLog.info({ rows }, 'export: client went away; stopped');
        await pending?.catch(() => undefined);
        await cursor.close('client went away');
        return;
      }
      await cursor.close();
      res.end();
      reqLog.debug({ rows }, 'export complete');
    } catch (e) {
      // After the first byte there is no status to send: abort, so the client sees a broken
      // transfer (no final chunk), never a complete-looking file.
      reqLog.warn({ err: e, rows }, 'export failed mid-stream; response aborted');
      await pending?.catch(() => undefined);
      await cursor.close(e).catch(() => undefined);
      res.destroy();
    }
  };
}
