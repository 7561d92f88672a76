/**
 * Typed client of the PEMS (HxGN EAM) REST web services the service uses: grid reads in pages
 * and record updates through the PFA user-defined screen, always with the record's `recordid`.
 *
 * Wire shapes (the simulator serves exactly these; see src/pems/simulator.ts):
 *   POST {baseUrl}/axis/restservices/griddata
 *     { GRID: { GRID_NAME, NUMBER_OF_ROWS_FIRST_RETURNED, CURSOR_POSITION }, GRID_TYPE: { TYPE: 'LIST' },
 *       REQUEST_TYPE: 'LIST.HEAD_DATA.STORED', ADDON_FILTER?: { ALIAS_NAME, OPERATOR, VALUE } }
 *     → { ErrorAlert: [], Result: { ResultData: { CURRENTCURSORPOSITION, NEXTCURSORPOSITION,
 *          MORERECORDPRESENT: '+'|'-', WATERMARK, FIELDS: [name, …], DATA: { ROW: [[n, value, n, value, …], …] } } } }
 *   POST {baseUrl}/axis/restservices/userdefinedscreenservices
 *     { USER_FUNCTION_NAME, ACTION: 'UPDATE', DATARECORD: { DATAFIELD: [PFA_ID, RECORDID, …changes] } }
 *     → { ErrorAlert: [], Result: { ResultData: { PFA_ID, RECORDID } } }
 *   Errors: non-2xx with { ErrorAlert: [{ Name, Message }] }.
 *
 * Every request carries the EAM headers `tenant` and `organization` and an API key
 * (`x-api-key`) or basic auth. Node's global fetch (undici) keeps connections alive per origin,
 * so a sync paging through a million rows reuses a handful of sockets.
 *
 * Failures are classified once, here, so jobs never look at HTTP statuses:
 *   PemsStaleRecordError   stale recordid — a conflict, never retried;
 *   PemsRateLimitedError   429 — retry after `retryAfterMs`;
 *   PemsTransientError     network error, timeout, 5xx, 408 — retry with backoff;
 *   PemsRequestError       any other 4xx or an unusable response — not retried.
 */
import {
  PEMS_API_KEY_HEADER,
  PEMS_CHANGE_SEQ_FIELD,
  PEMS_GRID_NAME,
  PEMS_NAME_BY_KEY,
  PEMS_RECORDID_FIELD,
  PEMS_SCREEN_NAME,
  PEMS_STALE_RECORD_MESSAGE,
  fromPemsRow,
  gridColumns,
  namedGridRow,
  toPemsFields,
  type PemsDataField,
} from './field-map.js';

// ------------------------------------------------------------------------------------------------
// Errors

export abstract class PemsError extends Error {
  abstract readonly retryable: boolean;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  constructor(message: string, status: number | null, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** PEMS refused an UPDATE because the record changed since `sentRecordid` was read. */
export class PemsStaleRecordError extends PemsError {
  override readonly name = 'PemsStaleRecordError';
  readonly retryable = false;
  constructor(
    message: string,
    status: number | null,
    readonly pfaId: string,
    readonly sentRecordid: string,
  ) {
    super(message, status);
  }
}

export class PemsRateLimitedError extends PemsError {
  override readonly name = 'PemsRateLimitedError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message, 429);
  }
}

export class PemsTransientError extends PemsError {
  override readonly name = 'PemsTransientError';
  readonly retryable = true;
}

export class PemsRequestError extends PemsError {
  override readonly name = 'PemsRequestError';
  readonly retryable = false;
}

/** Should a job retry after this error? Only PEMS errors that say so; anything else is a bug. */
export function isRetryable(err: unknown): boolean {
  return err instanceof PemsError && err.retryable;
}

// ------------------------------------------------------------------------------------------------
// Rate limiting

/**
 * Token bucket shared by every request of one client. Waiters reserve tokens by driving the
 * balance negative, so they leave in arrival order, each 1/rate after the previous one.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number = Math.max(1, ratePerSecond),
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rate must be a positive number, got ${ratePerSecond}`);
    }
    this.tokens = capacity;
  }

  async take(): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens * 1000) / this.ratePerSecond;
    await new Promise<void>((resolve) => setTimeout(resolve, waitMs));
  }
}

// ------------------------------------------------------------------------------------------------
// Client

export interface PemsClientOptions {
  baseUrl: string;
  tenant: string;
  apiKey?: string;
  username?: string;
  password?: string;
  /** Per request, including reading the body. Default 10 s. */
  timeoutMs?: number;
  /** Client-side cap on requests per second (token bucket); absent or 0: no cap. */
  rateLimitPerSecond?: number;
  gridName?: string;
  screenName?: string;
}

export interface PemsPageRecord {
  /** '' when the row carries no readable PFA_ID. */
  pfaId: string;
  /** null when the row could not be mapped; `error` says why. */
  data: Record<string, unknown> | null;
  /** '' when the row carries no readable RECORDID. */
  recordid: string;
  /**
   * The row as PEMS sent it. For a row that could not be mapped, its fields by PEMS name
   * ({ "PFA_ID": …, "RECORDID": … }), ready for a quarantine log.
   */
  raw: unknown;
  error?: string;
}

export interface PemsPage {
  records: PemsPageRecord[];
  /** Pass as `cursor` for the next page (in an incremental read it counts change-log entries, not rows). */
  nextCursor: number;
  more: boolean;
  /**
   * High-water mark of PEMS changes when this page was served. Keep the one of the FIRST page of
   * a run and pass it as `updatedSince` next time: a change made while the run pages through is
   * then read again next time (harmless) instead of being missed.
   */
  watermark?: string;
}

export interface ReadPageOptions {
  /** 0 for the first page, then the previous page's nextCursor. */
  cursor: number;
  /** Rows per page, 1–10,000 (1,000–5,000 is the sweet spot). */
  pageSize: number;
  /** Only records changed after this watermark (from an earlier PemsPage.watermark). */
  updatedSince?: string;
}

export interface PemsRecord {
  pfaId: string;
  data: Record<string, unknown>;
  recordid: string;
}

const GRIDDATA_PATH = '/axis/restservices/griddata';
const SCREEN_PATH = '/axis/restservices/userdefinedscreenservices';
const MAX_PAGE_SIZE = 10_000;
const DEFAULT_RETRY_AFTER_MS = 1_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const s = header.trim();
  if (/^[0-9]+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - now);
}

/** The messages of an EAM ErrorAlert list, if the body has one. */
function alertMessages(body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.ErrorAlert)) return [];
  const out: string[] = [];
  for (const a of body.ErrorAlert as unknown[]) {
    if (isObject(a) && typeof a.Message === 'string') out.push(a.Message);
  }
  return out;
}

function errorField(e: unknown, field: 'name' | 'message'): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const v: unknown = (e as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : undefined;
}

function resultData(body: unknown): Record<string, unknown> | null {
  if (!isObject(body) || !isObject(body.Result) || !isObject(body.Result.ResultData)) return null;
  return body.Result.ResultData;
}

/** EAM writes numbers in grid metadata as strings at times; accept both. */
function readCount(v: unknown): number | null {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function readMore(v: unknown): boolean | null {
  if (v === '+' || v === true || v === 'true') return true;
  if (v === '-' || v === false || v === 'false') return false;
  return null;
}

export class PemsClient {
  private readonly baseUrl: string;
  private readonly tenant: string;
  private readonly authHeader: [string, string] | null;
  private readonly timeoutMs: number;
  private readonly limiter: TokenBucket | null;
  private readonly gridName: string;
  private readonly screenName: string;

  constructor(options: PemsClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new RangeError(`PemsClient: baseUrl is not a URL: ${options.baseUrl}`);
    }
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.tenant = options.tenant;
    if (options.apiKey) {
      this.authHeader = [PEMS_API_KEY_HEADER, options.apiKey];
    } else if (options.username !== undefined || options.password !== undefined) {
      if (!options.username || options.password === undefined) {
        throw new RangeError('PemsClient: basic auth needs both username and password');
      }
      const token = Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64');
      this.authHeader = ['authorization', `Basic ${token}`];
    } else {
      this.authHeader = null; // the simulator without a key; a real PEMS will answer 401
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`PemsClient: timeoutMs must be positive, got ${this.timeoutMs}`);
    }
    const rate = options.rateLimitPerSecond ?? 0;
    this.limiter = rate > 0 ? new TokenBucket(rate) : null;
    this.gridName = options.gridName ?? PEMS_GRID_NAME;
    this.screenName = options.screenName ?? PEMS_SCREEN_NAME;
  }

  /**
   * One page of the organization's PFA grid. Rows that cannot be mapped come back with
   * `data: null` and `error`; only a failure of the whole request throws (a PemsError).
   */
  async readPage(org: string, options: ReadPageOptions): Promise<PemsPage> {
    const { cursor, pageSize, updatedSince } = options;
    if (!Number.isSafeInteger(cursor) || cursor < 0)
      throw new RangeError(`cursor must be ≥ 0, got ${cursor}`);
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RangeError(`pageSize must be 1–${MAX_PAGE_SIZE}, got ${pageSize}`);
    }
    const filter =
      updatedSince === undefined
        ? undefined
        : { ALIAS_NAME: PEMS_CHANGE_SEQ_FIELD, OPERATOR: '>', VALUE: updatedSince };
    const body = await this.post(GRIDDATA_PATH, org, this.gridRequest(pageSize, cursor, filter), 'griddata');
    return this.parsePage(org, body);
  }

  /** The record as PEMS holds it now, or null when PEMS has no such record. */
  async getRecord(org: string, pfaId: string): Promise<PemsRecord | null> {
    const filter = { ALIAS_NAME: PEMS_NAME_BY_KEY.get('pfaId') ?? 'PFA_ID', OPERATOR: '=', VALUE: pfaId };
    const body = await this.post(GRIDDATA_PATH, org, this.gridRequest(2, 0, filter), 'griddata');
    const page = this.parsePage(org, body);
    const rows = page.records.filter((r) => r.pfaId === pfaId);
    if (rows.length > 1)
      throw new PemsRequestError(`PEMS returned ${rows.length} rows for ${org}/${pfaId}`, 200);
    const row = rows[0];
    if (row === undefined) return null;
    if (row.data === null) {
      throw new PemsRequestError(
        `record ${org}/${pfaId} is malformed in PEMS: ${row.error ?? 'unknown'}`,
        200,
      );
    }
    return { pfaId, data: row.data, recordid: row.recordid };
  }

  /**
   * Sends `changes` (our record keys) as an UPDATE based on `recordid`; returns the new recordid.
   * Throws PemsStaleRecordError when PEMS holds a newer version.
   */
  async updateRecord(
    org: string,
    pfaId: string,
    changes: Readonly<Record<string, unknown>>,
    recordid: string,
  ): Promise<{ recordid: string }> {
    if (recordid === '')
      throw new TypeError(
        'updateRecord: recordid is required (without it a write would overwrite changes of other users)',
      );
    const rest: Record<string, unknown> = { ...changes };
    if ('pfaId' in rest) {
      if (rest.pfaId !== pfaId) throw new TypeError(`updateRecord: changes may not rename ${pfaId}`);
      delete rest.pfaId;
    }
    const fields = toPemsFields(rest);
    if (fields.length === 0) throw new TypeError('updateRecord: no changes to send');
    const datafield: PemsDataField[] = [
      { FIELDNAME: PEMS_NAME_BY_KEY.get('pfaId') ?? 'PFA_ID', FIELDVALUE: pfaId },
      { FIELDNAME: PEMS_RECORDID_FIELD, FIELDVALUE: recordid },
      ...fields,
    ];
    const request = {
      USER_FUNCTION_NAME: this.screenName,
      ACTION: 'UPDATE',
      DATARECORD: { DATAFIELD: datafield },
    };
    const body = await this.post(SCREEN_PATH, org, request, 'update', { pfaId, recordid });
    const data = resultData(body);
    const next = data?.[PEMS_RECORDID_FIELD];
    if (typeof next === 'string' && next !== '') return { recordid: next };
    if (typeof next === 'number' && Number.isSafeInteger(next)) return { recordid: String(next) };
    // The update may well have been applied; retrying is safe because the retry sends the old
    // recordid, is refused as stale, and the write-back's re-read finds its own values.
    throw new PemsTransientError(`PEMS accepted the update of ${org}/${pfaId} but sent no RECORDID`, 200);
  }

  private gridRequest(
    pageSize: number,
    cursor: number,
    filter: { ALIAS_NAME: string; OPERATOR: string; VALUE: string } | undefined,
  ): Record<string, unknown> {
    return {
      GRID: { GRID_NAME: this.gridName, NUMBER_OF_ROWS_FIRST_RETURNED: pageSize, CURSOR_POSITION: cursor },
      GRID_TYPE: { TYPE: 'LIST' },
      REQUEST_TYPE: 'LIST.HEAD_DATA.STORED',
      ...(filter ? { ADDON_FILTER: filter } : {}),
    };
  }

  private parsePage(org: string, body: unknown): PemsPage {
    const data = resultData(body);
    const table = isObject(data?.DATA) ? data.DATA : null;
    const rows = table?.ROW;
    const fields = data?.FIELDS;
    const columns = gridColumns(fields);
    const nextCursor = readCount(data?.NEXTCURSORPOSITION);
    const more = readMore(data?.MORERECORDPRESENT);
    if (data === null || !Array.isArray(rows) || columns === null || nextCursor === null || more === null) {
      throw new PemsRequestError(
        'unexpected griddata response (no FIELDS / DATA.ROW / NEXTCURSORPOSITION / MORERECORDPRESENT)',
        200,
      );
    }
    const names = fields as string[];
    const records: PemsPageRecord[] = new Array<PemsPageRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const raw: unknown = rows[i];
      const m = fromPemsRow(raw, columns);
      if (m.ok && (m.organization === null || m.organization === org)) {
        records[i] = { pfaId: m.pfaId, data: m.data, recordid: m.recordid, raw };
      } else {
        const error = m.ok ? `row belongs to organization ${m.organization ?? '?'}` : m.error;
        records[i] = {
          pfaId: m.pfaId,
          data: null,
          recordid: m.recordid,
          raw: namedGridRow(raw, names),
          error,
        };
      }
    }
    const watermark = data.WATERMARK;
    return {
      records,
      nextCursor,
      more,
      ...(typeof watermark === 'string' || typeof watermark === 'number'
        ? { watermark: String(watermark) }
        : {}),
    };
  }

  /** POST JSON and return the parsed body of a 2xx answer; every failure becomes a PemsError. */
  private async post(
    path: string,
    org: string,
    payload: unknown,
    operation: 'griddata' | 'update',
    update?: { pfaId: string; recordid: string },
  ): Promise<unknown> {
    if (this.limiter) await this.limiter.take();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      tenant: this.tenant,
      organization: org,
    };
    if (this.authHeader) headers[this.authHeader[0]] = this.authHeader[1];
    const what = `PEMS ${operation} (${org})`;

    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // The signal also bounds reading the body: a server that stalls mid-page times out too.
      const res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (e) {
      // Duck-typed: fetch's DOMExceptions need not be instances of this realm's Error (jest's vm).
      const name = errorField(e, 'name');
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new PemsTransientError(`${what} timed out after ${this.timeoutMs} ms`, null, { cause: e });
      }
      const cause = errorField(isObject(e) ? e.cause : undefined, 'message');
      const message = errorField(e, 'message') ?? String(e);
      throw new PemsTransientError(`${what} failed: ${message}${cause ? `: ${cause}` : ''}`, null, {
        cause: e,
      });
    }

    let body: unknown = undefined;
    let parsed = false;
    try {
      body = JSON.parse(text) as unknown;
      parsed = true;
    } catch {
      // handled below, by status
    }
    const messages = alertMessages(body);
    const detail = messages.length > 0 ? messages.join('; ') : text.slice(0, 200);

    if (update && messages.some((m) => m.includes(PEMS_STALE_RECORD_MESSAGE))) {
      throw new PemsStaleRecordError(`${what}: ${detail}`, status, update.pfaId, update.recordid);
    }
    if (status === 429) {
      throw new PemsRateLimitedError(`${what}: rate limited (${detail})`, parseRetryAfter(retryAfter));
    }
    if (status >= 500 || status === 408)
      throw new PemsTransientError(`${what}: HTTP ${status} ${detail}`, status);
    if (status < 200 || status >= 300)
      throw new PemsRequestError(`${what}: HTTP ${status} ${detail}`, status);
    // A 2xx whose body does not parse was most likely cut off on the way: worth another try.
    if (!parsed) throw new PemsTransientError(`${what}: response is not JSON (${text.length} bytes)`, status);
    if (messages.length > 0) throw new PemsRequestError(`${what}: ${detail}`, status);
    return body;
  }
}
