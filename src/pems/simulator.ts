/**
 * In-memory PEMS (HxGN EAM) for development, demos and tests — the same endpoints and shapes
 * PemsClient speaks, over real HTTP.
 *
 * Data: organizations and records come from the shared deterministic generator
 * (src/domain/generator.ts). Rows are generated on the fly for every read; only records somebody
 * changed or deleted live in memory, so 1,000,000 records cost nothing until they are touched.
 * A freshly started simulator therefore serves exactly the seed: record (org, index) maps back
 * to `generateRecord(org, index).data`, its RECORDID is the generated `pemsVersion`.
 *
 * Service endpoints (headers `tenant`, `organization`, and `x-api-key` when started with an apiKey):
 *
 *   POST /axis/restservices/griddata
 *     request  { "GRID": { "GRID_NAME": "UUPFAR", "NUMBER_OF_ROWS_FIRST_RETURNED": 1000, "CURSOR_POSITION": 0 },
 *                "GRID_TYPE": { "TYPE": "LIST" }, "REQUEST_TYPE": "LIST.HEAD_DATA.STORED",
 *                "ADDON_FILTER": { "ALIAS_NAME": "CHANGE_SEQ", "OPERATOR": ">", "VALUE": "<watermark>" } }
 *              ADDON_FILTER is optional; besides CHANGE_SEQ > n (incremental read) it accepts
 *              PFA_ID = id (one record). CURSOR_POSITION is 0-based; pass back NEXTCURSORPOSITION.
 *     response { "ErrorAlert": [], "InfoAlert": [], "WarningAlert": [],
 *                "Result": { "ResultData": { "GRIDNAME", "CURRENTCURSORPOSITION", "NEXTCURSORPOSITION",
 *                  "MORERECORDPRESENT": "+" | "-", "RECORDS": <rows in this response>, "WATERMARK": "<seq>",
 *                  "FIELDS": ["ORGANIZATION", "RECORDID", "PFA_ID", "CATEGORY", …],
 *                  "DATA": { "ROW": [ [0, "HOLNG", 1, "1", 2, "HOLNG-PFA-0000001", 3, "Cranes", …], … ] } } } }
 *     FIELDS names the columns once (EAM's aliasnum is the position); a row tags each value with its
 *     column number, as EAM's `<d n="…">` does, and leaves out fields it does not have.
 *     A full read walks the organization in generator order; deleted records are skipped (a page
 *     may hold fewer rows than asked; MORERECORDPRESENT is what ends the walk). An incremental
 *     read walks the change log after the watermark, each changed record once, in change order;
 *     there its cursor counts log entries. Values keep their JSON types (see field-map.ts).
 *
 *   POST /axis/restservices/userdefinedscreenservices
 *     request  { "USER_FUNCTION_NAME": "UUPFAR", "ACTION": "UPDATE",
 *                "DATARECORD": { "DATAFIELD": [ PFA_ID, RECORDID, …changed fields ] } }
 *     response { "ErrorAlert": [], …, "Result": { "ResultData": { "PFA_ID": …, "RECORDID": "<new>" } } }
 *     RECORDID is required (stricter than EAM, which accepts blind writes: the predecessor's bug).
 *     A stale RECORDID → 400 with ErrorAlert "This record has been modified by another user…";
 *     an unknown or deleted record → 404; other bad requests → 400. Errors always use the
 *     { "ErrorAlert": [{ "Name", "Message" }], "Result": null } shape.
 *
 * Control API (for tests and demos; not part of EAM):
 *   PUT    /_sim/records/{org}/{pfaId}  JSON object of record-key changes, as another PEMS user
 *                                       would make them; bumps RECORDID → the record
 *   GET    /_sim/records/{org}/{pfaId}  → { organization, pfaId, recordid, data }
 *   DELETE /_sim/records/{org}/{pfaId}  the record disappears from every read
 *   POST   /_sim/faults   { latencyMs, errorRate, status, malformedEvery, failNext, retryAfterSeconds,
 *                           failAfterApply } — replaces the fault settings (absent keys → defaults)
 *   DELETE /_sim/faults   no faults
 *   GET    /_sim/stats    { organizations: [{ id, name, records }], updates: { "<org>/<pfaId>": n },
 *                           requests: {…}, changeSeq }
 *   GET    /_sim/writes?since=N  the append-only log of applied writes after entry N (1-based seq):
 *                           [{ seq, at, organization, pfaId, via: "update" | "control", recordidBefore,
 *                              recordidAfter, changes, responseLost }] — what a soak test checks
 *                              exactly-once delivery against (every UPDATE PEMS accepted, and every
 *                              change another PEMS user made through PUT)
 * Faults apply to the two service endpoints only: `latencyMs` delays every request; `failNext`
 * fails the next N requests and `errorRate` (0..1) a random share of them, with `status`
 * (default 500; a 429 carries Retry-After: `retryAfterSeconds`, default 1); with
 * `failAfterApply` a failed UPDATE is applied before the error is sent (a lost response);
 * `malformedEvery` N makes the rows of every Nth record (by position in the organization, so
 * always the same records) unmappable while keeping their PFA_ID readable. `stats().requests`
 * counts what was injected: `injectedByStatus` per HTTP status, `lostResponses` (applied, then
 * failed) and `delayed` (requests held `latencyMs`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  generateRecord,
  generatedPfaId,
  planOrganizations,
  type GeneratedOrganization,
} from '../domain/generator.js';
import {
  FieldMapError,
  PEMS_API_KEY_HEADER,
  PEMS_CHANGE_SEQ_FIELD,
  PEMS_GRID_NAME,
  PEMS_NAME_BY_KEY,
  PEMS_RECORDID_FIELD,
  PEMS_SCREEN_NAME,
  PEMS_STALE_RECORD_MESSAGE,
  PemsGridWriter,
  fromPemsRow,
  toPemsFields,
} from './field-map.js';

export interface PemsSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Number of organizations, 1–40 (planOrganizations). */
  orgs: number;
  /** Records over all organizations. */
  records: number;
  /** When set, every request must carry it in `x-api-key`. */
  apiKey?: string;
}

export interface PemsFaults {
  latencyMs: number;
  errorRate: number;
  status: number;
  malformedEvery: number;
  failNext: number;
  retryAfterSeconds: number;
  failAfterApply: boolean;
}

export interface SimRecord {
  organization: string;
  pfaId: string;
  recordid: string;
  data: Record<string, unknown>;
}

/** One write PEMS applied, in the order it applied them (the simulator's append-only write log). */
export interface SimWrite {
  /** 1-based position in the log. */
  seq: number;
  /** Date.now() when applied. */
  at: number;
  organization: string;
  pfaId: string;
  /** `update`: an UPDATE through the screen service (write-back); `control`: PUT /_sim/records (another PEMS user). */
  via: 'update' | 'control';
  recordidBefore: string;
  recordidAfter: string;
  /** The changed keys as PEMS took them (record keys, JSON values). */
  changes: Record<string, unknown>;
  /** Applied, but answered with an injected error (failAfterApply): the sender does not know. */
  responseLost: boolean;
}

export interface PemsSimulatorStats {
  organizations: { id: string; name: string; records: number }[];
  /** Successful UPDATEs through the screen service, per record ("<org>/<pfaId>"). */
  updates: Record<string, number>;
  requests: {
    total: number;
    griddata: number;
    update: number;
    control: number;
    injectedFailures: number;
    /** Injected failures per HTTP status ("500", "429", …). */
    injectedByStatus: Record<string, number>;
    /** UPDATEs applied and then answered with an injected error. */
    lostResponses: number;
    /** Requests held by the latency fault. */
    delayed: number;
    staleRejected: number;
    rowsServed: number;
    malformedRows: number;
  };
  /** Current watermark. */
  changeSeq: number;
}

export interface PemsSimulator {
  url: string;
  port: number;
  organizations: readonly GeneratedOrganization[];
  close(): Promise<void>;
  // The control API in-process, for tests that do not want to go through HTTP.
  changeRecord(org: string, pfaId: string, changes: Record<string, unknown>): SimRecord;
  getRecord(org: string, pfaId: string): SimRecord | null;
  deleteRecord(org: string, pfaId: string): boolean;
  setFaults(faults: Partial<PemsFaults>): PemsFaults;
  resetFaults(): void;
  stats(): PemsSimulatorStats;
  /** The applied writes after log entry `since` (0: all), oldest first; copies. */
  writes(since?: number): SimWrite[];
}

const DEFAULT_FAULTS: Readonly<PemsFaults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  status: 500,
  malformedEvery: 0,
  failNext: 0,
  retryAfterSeconds: 1,
  failAfterApply: false,
});

const MAX_PAGE_SIZE = 10_000;
const DEFAULT_PAGE_SIZE = 500; // EAM's default for NUMBER_OF_ROWS_FIRST_RETURNED
const MAX_BODY_BYTES = 1 << 20;
const PFA_ID_NAME = PEMS_NAME_BY_KEY.get('pfaId') ?? 'PFA_ID';

/** A record somebody changed or deleted; everything else is regenerated on demand. */
interface Override {
  pfaId: string;
  data: Record<string, unknown>;
  recordid: string;
  /** Change sequence of its latest change (its entry in the change log). */
  seq: number;
  deleted: boolean;
}

interface OrgState {
  id: string;
  name: string;
  size: number;
  deleted: number;
  overrides: Map<number, Override>;
  /** Change log, append-only, ascending seq: parallel arrays keep 10k+ entries compact. */
  logSeq: number[];
  logIndex: number[];
  /** Do the generator's pfaIds follow generatedPfaId (checked once)? */
  idsFollowPattern?: boolean;
  /** Only built if they do not. */
  pfaIndex?: Map<string, number>;
}

/** A failure answered with an EAM-style error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly alertName = 'SimulatorError',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorBody(name: string, message: string): string {
  return JSON.stringify({
    ErrorAlert: [{ Name: name, Message: message }],
    InfoAlert: [],
    WarningAlert: [],
    Result: null,
  });
}

function nextRecordid(current: string): string {
  const n = Number.parseInt(current, 10);
  return String(Number.isSafeInteger(n) ? n + 1 : 2);
}

/** First position in `seqs` (ascending) holding a value > since. */
function firstAfter(seqs: readonly number[], since: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seqs[mid] as number) > since) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function intIn(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`, 'InvalidRequest');
  }
  return n;
}

export async function startPemsSimulator(opts: PemsSimulatorOptions): Promise<PemsSimulator> {
  const plan = planOrganizations(opts.records, opts.orgs);
  const orgs = new Map<string, OrgState>(
    plan.map((o) => [
      o.id,
      { id: o.id, name: o.name, size: o.records, deleted: 0, overrides: new Map(), logSeq: [], logIndex: [] },
    ]),
  );
  let changeSeq = 0;
  let faults: PemsFaults = { ...DEFAULT_FAULTS };
  const updates = new Map<string, number>();
  const requests: PemsSimulatorStats['requests'] = {
    total: 0,
    griddata: 0,
    update: 0,
    control: 0,
    injectedFailures: 0,
    staleRejected: 0,
    rowsServed: 0,
    malformedRows: 0,
    injectedByStatus: {},
    lostResponses: 0,
    delayed: 0,
  };
  const writeLog: SimWrite[] = [];

  function logWrite(
    s: OrgState,
    o: Override,
    via: SimWrite['via'],
    recordidBefore: string,
    changes: Record<string, unknown>,
    responseLost: boolean,
  ): void {
    writeLog.push({
      seq: writeLog.length + 1,
      at: Date.now(),
      organization: s.id,
      pfaId: o.pfaId,
      via,
      recordidBefore,
      recordidAfter: o.recordid,
      changes: structuredClone(changes),
      responseLost,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  function orgState(org: string): OrgState {
    const s = orgs.get(org);
    if (!s) throw new HttpError(404, `Organization ${org} is not valid`, 'InvalidOrganization');
    return s;
  }

  function indexOf(s: OrgState, pfaId: string): number | null {
    if (s.size === 0) return null;
    // Generated ids end in index + 1; verify against the generator rather than trusting the parse.
    const m = /([0-9]+)$/.exec(pfaId);
    if (m) {
      const index = Number(m[1]) - 1;
      if (index >= 0 && index < s.size && generatedPfaId(s.id, index) === pfaId) return index;
    }
    s.idsFollowPattern ??= generatedPfaId(s.id, 0) === generateRecord(s.id, 0).pfaId;
    if (s.idsFollowPattern) return null;
    // Only if the generator ever stops using generatedPfaId: one scan, then a lookup table.
    if (!s.pfaIndex) {
      s.pfaIndex = new Map();
      for (let i = 0; i < s.size; i++) s.pfaIndex.set(generateRecord(s.id, i).pfaId, i);
    }
    return s.pfaIndex.get(pfaId) ?? null;
  }

  /** Current state of a live record, or null (unknown or deleted). */
  function current(
    s: OrgState,
    index: number,
  ): { pfaId: string; data: Record<string, unknown>; recordid: string } | null {
    const o = s.overrides.get(index);
    if (o) return o.deleted ? null : o;
    const g = generateRecord(s.id, index);
    return { pfaId: g.pfaId, data: g.data, recordid: g.pemsVersion };
  }

  function find(org: string, pfaId: string): { s: OrgState; index: number } {
    const s = orgState(org);
    const index = indexOf(s, pfaId);
    if (index === null || current(s, index) === null) {
      throw new HttpError(404, `Record ${pfaId} does not exist in organization ${org}`, 'RecordNotFound');
    }
    return { s, index };
  }

  function record(s: OrgState, index: number): SimRecord | null {
    const r = current(s, index);
    return r
      ? { organization: s.id, pfaId: r.pfaId, recordid: r.recordid, data: structuredClone(r.data) }
      : null;
  }

  /** Applies changes as one PEMS save: new recordid, new change-log entry. */
  function applyChange(
    s: OrgState,
    index: number,
    changes: Record<string, unknown>,
    deleted = false,
  ): Override {
    const r = current(s, index);
    if (!r)
      throw new HttpError(404, `Record ${index} does not exist in organization ${s.id}`, 'RecordNotFound');
    changeSeq += 1;
    const o: Override = {
      pfaId: r.pfaId,
      data: { ...r.data, ...changes },
      recordid: nextRecordid(r.recordid),
      seq: changeSeq,
      deleted,
    };
    s.overrides.set(index, o);
    s.logSeq.push(changeSeq);
    s.logIndex.push(index);
    if (deleted) s.deleted += 1;
    return o;
  }

  function changeRecord(org: string, pfaId: string, changes: Record<string, unknown>): SimRecord {
    const { s, index } = find(org, pfaId);
    if ('pfaId' in changes && changes.pfaId !== pfaId) {
      throw new HttpError(400, 'pfaId cannot be changed', 'InvalidRequest');
    }
    try {
      toPemsFields(changes); // a key PEMS could not carry would not survive the next read
    } catch (e) {
      if (e instanceof FieldMapError) throw new HttpError(400, e.message, 'InvalidRequest');
      throw e;
    }
    const before = current(s, index)?.recordid ?? '';
    const o = applyChange(s, index, structuredClone(changes));
    logWrite(s, o, 'control', before, changes, false);
    return record(s, index) as SimRecord;
  }

  function deleteRecord(org: string, pfaId: string): boolean {
    const s = orgs.get(org);
    if (!s) return false;
    const index = indexOf(s, pfaId);
    if (index === null || current(s, index) === null) return false;
    applyChange(s, index, {}, true);
    return true;
  }

  function getRecord(org: string, pfaId: string): SimRecord | null {
    const s = orgs.get(org);
    if (!s) return null;
    const index = indexOf(s, pfaId);
    return index === null ? null : record(s, index);
  }

  // ---------------------------------------------------------------------------------------------
  // Service endpoints

  function row(
    writer: PemsGridWriter,
    s: OrgState,
    index: number,
    r: { data: Record<string, unknown>; recordid: string },
  ): unknown[] {
    const cells = writer.row(s.id, r.recordid, r.data);
    const every = faults.malformedEvery;
    if (every > 0 && (index + 1) % every === 0) {
      requests.malformedRows += 1;
      // Two kinds of damage, both leaving PFA_ID readable so the sync can quarantine by id:
      // the RECORDID cell (cells 2–3) goes missing, or a cell names a column FIELDS lacks.
      if (((index + 1) / every) % 2 === 1) cells.splice(2, 2);
      else cells.push(writer.fields.length + 1000, '#####');
    }
    return cells;
  }

  function griddata(org: string, body: unknown): unknown {
    if (!isObject(body) || !isObject(body.GRID))
      throw new HttpError(400, 'GRID is required', 'InvalidRequest');
    const grid = body.GRID;
    if (grid.GRID_NAME !== PEMS_GRID_NAME) {
      throw new HttpError(400, `Grid ${JSON.stringify(grid.GRID_NAME)} does not exist`, 'InvalidGrid');
    }
    const pageSize = intIn(
      grid.NUMBER_OF_ROWS_FIRST_RETURNED,
      'NUMBER_OF_ROWS_FIRST_RETURNED',
      1,
      MAX_PAGE_SIZE,
      DEFAULT_PAGE_SIZE,
    );
    const cursor = intIn(grid.CURSOR_POSITION, 'CURSOR_POSITION', 0, Number.MAX_SAFE_INTEGER, 0);
    const s = orgState(org);
    const watermark = changeSeq; // before reading: a change made now is seen next time, not lost
    const writer = new PemsGridWriter();
    const rows: unknown[] = [];
    let next: number;
    let more: boolean;
    const filter = body.ADDON_FILTER;

    if (filter === undefined) {
      const end = Math.min(s.size, cursor + pageSize);
      for (let i = cursor; i < end; i++) {
        const r = current(s, i);
        if (r) rows.push(row(writer, s, i, r));
      }
      next = Math.max(end, cursor);
      more = end < s.size;
    } else if (
      isObject(filter) &&
      filter.ALIAS_NAME === PEMS_CHANGE_SEQ_FIELD &&
      filter.OPERATOR === '>' &&
      typeof filter.VALUE === 'string' &&
      /^[0-9]{1,15}$/.test(filter.VALUE)
    ) {
      const start = firstAfter(s.logSeq, Number(filter.VALUE));
      let pos = start + cursor;
      while (pos < s.logSeq.length && rows.length < pageSize) {
        const seq = s.logSeq[pos] as number;
        const index = s.logIndex[pos] as number;
        pos += 1;
        const o = s.overrides.get(index);
        // A record changed twice has two entries: serve it at its latest one only.
        if (!o || o.seq !== seq || o.deleted) continue;
        rows.push(row(writer, s, index, o));
      }
      next = Math.max(pos, start + cursor) - start;
      more = pos < s.logSeq.length;
    } else if (
      isObject(filter) &&
      filter.ALIAS_NAME === PFA_ID_NAME &&
      filter.OPERATOR === '=' &&
      typeof filter.VALUE === 'string'
    ) {
      const index = indexOf(s, filter.VALUE);
      const r = index === null || cursor > 0 ? null : current(s, index);
      if (r && index !== null) rows.push(row(writer, s, index, r));
      next = cursor + 1;
      more = false;
    } else {
      throw new HttpError(400, `unsupported ADDON_FILTER ${JSON.stringify(filter)}`, 'InvalidFilter');
    }

    requests.rowsServed += rows.length;
    return {
      ErrorAlert: [],
      InfoAlert: [],
      WarningAlert: [],
      Result: {
        ResultData: {
          GRIDNAME: PEMS_GRID_NAME,
          CURRENTCURSORPOSITION: cursor,
          NEXTCURSORPOSITION: next,
          MORERECORDPRESENT: more ? '+' : '-',
          RECORDS: rows.length,
          WATERMARK: String(watermark),
          FIELDS: writer.fields,
          DATA: { ROW: rows },
        },
      },
    };
  }

  function update(org: string, body: unknown, failAfter: HttpError | null): unknown {
    if (!isObject(body) || body.USER_FUNCTION_NAME !== PEMS_SCREEN_NAME) {
      throw new HttpError(400, `USER_FUNCTION_NAME must be ${PEMS_SCREEN_NAME}`, 'InvalidRequest');
    }
    if (body.ACTION !== 'UPDATE') {
      throw new HttpError(400, `ACTION ${JSON.stringify(body.ACTION)} is not supported`, 'InvalidRequest');
    }
    const m = fromPemsRow(body.DATARECORD);
    if (!m.ok) throw new HttpError(400, m.error, 'InvalidRequest');
    const { s, index } = find(org, m.pfaId);
    const r = current(s, index) as { recordid: string };
    if (m.recordid !== r.recordid) {
      requests.staleRejected += 1;
      throw new HttpError(
        400,
        `${PEMS_STALE_RECORD_MESSAGE}. Please refresh the record (${m.pfaId}) and try again.`,
        'RecordModified',
      );
    }
    const changes: Record<string, unknown> = { ...m.data };
    delete changes.pfaId;
    const o = applyChange(s, index, changes);
    logWrite(s, o, 'update', r.recordid, changes, failAfter !== null);
    const key = `${s.id}/${o.pfaId}`;
    updates.set(key, (updates.get(key) ?? 0) + 1);
    if (failAfter) {
      requests.lostResponses += 1;
      throw failAfter;
    }
    return {
      ErrorAlert: [],
      InfoAlert: [],
      WarningAlert: [],
      Result: { ResultData: { [PFA_ID_NAME]: o.pfaId, [PEMS_RECORDID_FIELD]: o.recordid } },
    };
  }

  /** The fault to answer with for this request, if one is due (consumes failNext). */
  function dueFault(): HttpError | null {
    let fail = false;
    if (faults.failNext > 0) {
      faults.failNext -= 1;
      fail = true;
    } else if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
      fail = true;
    }
    if (!fail) return null;
    requests.injectedFailures += 1;
    const status = faults.status;
    requests.injectedByStatus[String(status)] = (requests.injectedByStatus[String(status)] ?? 0) + 1;
    if (status === 429) {
      return new HttpError(429, 'Too many requests', 'RateLimited', {
        'retry-after': String(faults.retryAfterSeconds),
      });
    }
    return new HttpError(status, `Simulated failure (HTTP ${status})`, 'SimulatedFailure');
  }

  // ---------------------------------------------------------------------------------------------
  // Control API

  function parseFaults(body: unknown): PemsFaults {
    if (!isObject(body)) throw new HttpError(400, 'faults must be a JSON object', 'InvalidRequest');
    const known = Object.keys(DEFAULT_FAULTS);
    const unknown = Object.keys(body).filter((k) => !known.includes(k));
    if (unknown.length > 0)
      throw new HttpError(400, `unknown fault settings: ${unknown.join(', ')}`, 'InvalidRequest');
    const errorRate = body.errorRate ?? 0;
    if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) {
      throw new HttpError(400, 'errorRate must be a number from 0 to 1', 'InvalidRequest');
    }
    const failAfterApply = body.failAfterApply ?? false;
    if (typeof failAfterApply !== 'boolean') {
      throw new HttpError(400, 'failAfterApply must be a boolean', 'InvalidRequest');
    }
    return {
      latencyMs: intIn(body.latencyMs, 'latencyMs', 0, 60_000, 0),
      errorRate,
      status: intIn(body.status, 'status', 400, 599, 500),
      malformedEvery: intIn(body.malformedEvery, 'malformedEvery', 0, Number.MAX_SAFE_INTEGER, 0),
      failNext: intIn(body.failNext, 'failNext', 0, Number.MAX_SAFE_INTEGER, 0),
      retryAfterSeconds: intIn(body.retryAfterSeconds, 'retryAfterSeconds', 0, 3600, 1),
      failAfterApply,
    };
  }

  function setFaults(f: Partial<PemsFaults>): PemsFaults {
    faults = parseFaults(f);
    return { ...faults };
  }

  function stats(): PemsSimulatorStats {
    return {
      organizations: [...orgs.values()].map((s) => ({ id: s.id, name: s.name, records: s.size - s.deleted })),
      updates: Object.fromEntries(updates),
      requests: { ...requests, injectedByStatus: { ...requests.injectedByStatus } },
      changeSeq,
    };
  }

  function writes(since = 0): SimWrite[] {
    return structuredClone(writeLog.slice(Math.max(0, since)));
  }

  async function control(
    method: string,
    parts: string[],
    query: URLSearchParams,
    req: IncomingMessage,
  ): Promise<[number, unknown]> {
    requests.control += 1;
    if (parts[0] === 'stats' && parts.length === 1 && method === 'GET') return [200, stats()];
    if (parts[0] === 'writes' && parts.length === 1 && method === 'GET') {
      const since = intIn(query.get('since') ?? undefined, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
      return [200, writes(since)];
    }
    if (parts[0] === 'faults' && parts.length === 1) {
      if (method === 'POST') {
        faults = parseFaults(await readJson(req));
        return [200, faults];
      }
      if (method === 'DELETE') {
        faults = { ...DEFAULT_FAULTS };
        return [200, faults];
      }
      throw new HttpError(405, `${method} not allowed`, 'MethodNotAllowed');
    }
    if (parts[0] === 'records' && parts.length === 3) {
      const [, org, pfaId] = parts as [string, string, string];
      if (method === 'GET') {
        const r = getRecord(org, pfaId);
        if (!r)
          throw new HttpError(404, `Record ${pfaId} does not exist in organization ${org}`, 'RecordNotFound');
        return [200, r];
      }
      if (method === 'PUT') {
        const body = await readJson(req);
        if (!isObject(body))
          throw new HttpError(400, 'body must be a JSON object of record changes', 'InvalidRequest');
        return [200, changeRecord(org, pfaId, body)];
      }
      if (method === 'DELETE') {
        find(org, pfaId); // 404 when there is nothing to delete
        deleteRecord(org, pfaId);
        return [200, { deleted: true, organization: org, pfaId }];
      }
      throw new HttpError(405, `${method} not allowed`, 'MethodNotAllowed');
    }
    throw new HttpError(404, 'no such control endpoint', 'NotFound');
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large', 'InvalidRequest');
      chunks.push(b);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'request body is not JSON', 'InvalidRequest');
    }
  }

  function send(
    res: ServerResponse,
    status: number,
    json: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(json)),
      ...headers,
    });
    res.end(json);
  }

  function header(req: IncomingMessage, name: string): string | undefined {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests.total += 1;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    if (opts.apiKey !== undefined && header(req, PEMS_API_KEY_HEADER) !== opts.apiKey) {
      throw new HttpError(401, 'Invalid or missing API key', 'Unauthorized');
    }

    if (path.startsWith('/_sim/')) {
      let parts: string[];
      try {
        parts = path.slice('/_sim/'.length).split('/').map(decodeURIComponent);
      } catch {
        throw new HttpError(400, 'malformed path', 'InvalidRequest');
      }
      const [status, body] = await control(method, parts, url.searchParams, req);
      send(res, status, JSON.stringify(body));
      return;
    }

    const isGrid = path === '/axis/restservices/griddata';
    const isUpdate = path === '/axis/restservices/userdefinedscreenservices';
    if (!isGrid && !isUpdate) throw new HttpError(404, `no service at ${path}`, 'NotFound');
    if (method !== 'POST') throw new HttpError(405, `${method} not allowed`, 'MethodNotAllowed');
    if (isGrid) requests.griddata += 1;
    else requests.update += 1;

    const body = await readJson(req);
    if (faults.latencyMs > 0) {
      requests.delayed += 1;
      await new Promise((r) => setTimeout(r, faults.latencyMs));
    }
    const fault = dueFault();
    if (fault && !(isUpdate && faults.failAfterApply)) throw fault;
    if (!header(req, 'tenant')) throw new HttpError(400, 'header tenant is required', 'InvalidRequest');
    const org = header(req, 'organization');
    if (!org) throw new HttpError(400, 'header organization is required', 'InvalidRequest');
    const result = isGrid ? griddata(org, body) : update(org, body, fault);
    send(res, 200, JSON.stringify(result));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, e instanceof Error ? e.message : String(e));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Drain what the client still sends so the keep-alive connection stays usable.
      req.resume();
      send(res, err.status, errorBody(err.alertName, err.message), err.headers);
    });
  });
  // Keep idle sockets longer than undici's 4 s default so a paging client never races a close.
  server.keepAliveTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Listening on every interface: hand out a URL a local client can actually connect to.
  const reachable =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const host = reachable.includes(':') ? `[${reachable}]` : reachable;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    organizations: plan,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
    changeRecord,
    getRecord,
    deleteRecord,
    setFaults,
    resetFaults: () => {
      faults = { ...DEFAULT_FAULTS };
    },
    stats,
    writes,
  };
}
