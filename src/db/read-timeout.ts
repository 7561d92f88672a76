import {
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { DomainError } from '../domain/errors.js';
import type { Db } from './database.js';
import type { Database } from './tables.js';

/**
 * A Kysely instance over the same pool whose statements run under a shorter statement timeout:
 * reads a client shapes (filters, orderings, pages) must not hold a connection as long as a
 * write may. Each statement runs in its own transaction that starts with
 * `SET LOCAL statement_timeout`, so the setting ends with it: nothing leaks to the next user of
 * the pooled connection, and it works through PgBouncer in transaction mode (DOMAIN §8: never a
 * session-level SET).
 *
 * One round trip per read: `BEGIN`, `SET LOCAL statement_timeout = N`, the statement and `COMMIT`
 * go out together as one extended-protocol pipeline closed by a single Sync (see `TimedRead`), and
 * PostgreSQL answers them in one go — instead of three round trips (`BEGIN; SET LOCAL …`, the
 * statement, `COMMIT`), each costing a write and a read on both sides. N is this server's
 * setting, never client input. A transaction opened on this instance gets the same setting once.
 *
 * A read whose text starts with PREPARED_READ or PREPARED_READ_CUSTOM_PLAN runs as a named
 * prepared statement at the protocol level (DOMAIN §8: node-postgres `name`, never SQL PREPARE;
 * PgBouncer ≥ 1.21 with max_prepared_statements tracks these): parsed once per connection. Under
 * PREPARED_READ, PostgreSQL may keep a generic plan after five executions (plan_cache_mode auto),
 * so the statement is no longer planned per request; under PREPARED_READ_CUSTOM_PLAN the pipeline
 * also sets `plan_cache_mode = force_custom_plan` (SET LOCAL), so it is planned for its values
 * each time, as an unnamed statement would be. `prepared: false` (READ_PREPARED_STATEMENTS=false,
 * for a pooler that cannot track named statements) runs every read unnamed.
 *
 * A statement cancelled by the timeout (SQLSTATE 57014) becomes BAD_USER_INPUT: the client asked
 * for more than a read may cost.
 */
export function createReadDb(pool: pg.Pool, timeoutMs: number, options: { prepared?: boolean } = {}): Db {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new ReadTimeoutPool(pool, timeoutMs, options.prepared ?? true) }),
  });
}

/**
 * Marks a read to be prepared (named) on each connection, a generic plan allowed: only for
 * statements whose shape keeps one plan good for every parameter value (the caller decides, see
 * src/repositories/page-plan.ts). A generic plan of a statement whose best plan depends on the
 * values can be far worse than the custom plan (measured: 6 ms → 1.2 s).
 */
export const PREPARED_READ = '/* prepared */ ';
/** Marks a read to be prepared (named) on each connection but planned for its values every time. */
export const PREPARED_READ_CUSTOM_PLAN = '/* prepared, custom plan */ ';
const FORCE_CUSTOM_PLAN = 'SET LOCAL plan_cache_mode = force_custom_plan';

/** Named statements kept per connection (least recently used closed beyond this). */
export const MAX_PREPARED_PER_CONNECTION = 32;

/** The statement name of a prepared read: the same on every connection and every process. */
function statementName(text: string): string {
  return `pfa_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end|abort)\b/i;

class ReadTimeoutPool implements PostgresPool {
  constructor(
    private readonly pool: pg.Pool,
    private readonly timeoutMs: number,
    /** Honour the PREPARED_READ marks (READ_PREPARED_STATEMENTS); else every read is unnamed. */
    private readonly prepared: boolean,
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    return new ReadTimeoutClient(await this.pool.connect(), Math.floor(this.timeoutMs), this.prepared);
  }

  /** The pool belongs to the main Db, which ends it. */
  async end(): Promise<void> {}
}

/** What TimedRead uses of node-postgres's Connection (the methods its own Query uses). */
interface PgConnection {
  stream: { cork?: () => void; uncork?: () => void };
  /** Names of the statements prepared on this connection (node-postgres's own record). */
  parsedStatements: Record<string, string | undefined>;
  parse(query: { text: string; name?: string; types?: unknown[] }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(config: { portal?: string; rows?: number }): void;
  close(msg: { type: 'S' | 'P'; name: string }): void;
  sync(): void;
}

/** node-postgres's Query as far as TimedRead extends it (pg is pinned: package.json). */
interface PgQuery {
  portal: string;
  name: string | undefined;
  submit(connection: PgConnection): Error | null;
  handleCommandComplete(msg: unknown, connection: PgConnection): void;
  handleEmptyQuery(connection: PgConnection): void;
  _getRows(connection: PgConnection, rows: number | undefined): void;
}

const PgQueryBase = pg.Query as unknown as new (config: {
  text: string;
  values: unknown[];
  queryMode: 'extended';
  callback: (err: Error | null, result: unknown) => void;
}) => PgQuery;

/**
 * One read as one pipeline: Parse/Bind/Execute of `BEGIN` and of `SET LOCAL statement_timeout`
 * (and of `SET LOCAL plan_cache_mode` for a custom-plan read), then node-postgres's own
 * Parse/Bind/Describe/Execute of the statement (with its parameters; no Parse when it is
 * prepared on this connection already), then Parse/Bind/Execute of `COMMIT`, and one Sync.
 * PostgreSQL runs the messages in order; an error skips the rest up to the Sync and leaves the
 * transaction aborted, so the caller rolls back (ReadTimeoutClient.run). The statement's result
 * is the only one kept: the command completions of the control statements are not the caller's.
 *
 * A protocol-level pipeline of ordinary statements: nothing PgBouncer (transaction mode) or a
 * replica would treat differently from the same statements sent one by one.
 */
class TimedRead extends PgQueryBase {
  /** Command completions seen: the control statements before the statement, then its own. */
  private completed = 0;

  constructor(
    text: string,
    values: unknown[],
    /** Run before the statement, in its transaction: BEGIN and SET LOCALs. */
    private readonly before: readonly string[],
    /** A statement name (prepared once per connection), or undefined for the unnamed statement. */
    name: string | undefined,
    callback: (err: Error | null, result: unknown) => void,
  ) {
    super({ text, values, queryMode: 'extended', callback });
    this.name = name;
  }

  override submit(connection: PgConnection): Error | null {
    connection.stream.cork?.();
    try {
      if (this.name !== undefined) forgetBeyondLimit(connection, this.name);
      for (const statement of this.before) control(connection, statement);
      // Parse (unless prepared), Bind, Describe, Execute; COMMIT and Sync follow in _getRows.
      return super.submit(connection);
    } finally {
      connection.stream.uncork?.();
    }
  }

  override _getRows(connection: PgConnection, rows: number | undefined): void {
    connection.execute({ portal: this.portal, rows: rows ?? 0 });
    control(connection, 'COMMIT');
    connection.sync();
  }

  override handleCommandComplete(msg: unknown, connection: PgConnection): void {
    if (++this.completed === this.before.length + 1) super.handleCommandComplete(msg, connection);
  }

  override handleEmptyQuery(connection: PgConnection): void {
    this.completed++;
    super.handleEmptyQuery(connection);
  }
}

/** Statement names prepared per connection, least recently used first. */
const preparedOn = new WeakMap<PgConnection, Set<string>>();

/**
 * Records `name` as used on this connection; when more than MAX_PREPARED_PER_CONNECTION are
 * prepared, closes the least recently used one (a Close message in the same pipeline) so a
 * connection's prepared statements stay bounded whatever shapes clients send.
 */
function forgetBeyondLimit(connection: PgConnection, name: string): void {
  let names = preparedOn.get(connection);
  if (!names) preparedOn.set(connection, (names = new Set()));
  names.delete(name);
  names.add(name);
  if (names.size <= MAX_PREPARED_PER_CONNECTION) return;
  const oldest = names.values().next().value as string;
  names.delete(oldest);
  if (connection.parsedStatements[oldest] === undefined) return;
  delete connection.parsedStatements[oldest];
  connection.close({ type: 'S', name: oldest });
}

/** Parse/Bind/Execute of a statement without parameters or rows (unnamed statement and portal). */
function control(connection: PgConnection, text: string): void {
  connection.parse({ text, name: '' });
  connection.bind({ portal: '', statement: '', values: [] });
  connection.execute({ portal: '', rows: 0 });
}

class ReadTimeoutClient implements PostgresPoolClient {
  private inTransaction = false;
  /** Set when a prepared read failed: its statement's state is unknown, the connection is not reused. */
  private stale = false;
  private readonly setLocal: string;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
    private readonly prepared: boolean,
  ) {
    this.setLocal = `SET LOCAL statement_timeout = ${timeoutMs}`;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // A streaming cursor keeps its own connection-level setting (none of our reads streams).
    if (typeof sqlOrCursor !== 'string')
      return this.client.query(sqlOrCursor as never) as unknown as PostgresCursor<R>;
    return this.run<R>(sqlOrCursor, parameters ?? []);
  }

  release(destroy?: boolean): void {
    this.client.release(destroy || this.stale);
  }

  private exec<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    return this.client.query(sql, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
  }

  private timedRead<R>(
    sql: string,
    parameters: ReadonlyArray<unknown>,
    name: string | undefined,
    customPlan = false,
  ): Promise<PostgresQueryResult<R>> {
    const before = customPlan ? ['BEGIN', this.setLocal, FORCE_CUSTOM_PLAN] : ['BEGIN', this.setLocal];
    return new Promise((resolve, reject) => {
      const read = new TimedRead(sql, [...parameters], before, name, (err, result) =>
        err ? reject(err) : resolve(result as PostgresQueryResult<R>),
      );
      this.client.query(read as unknown as pg.Submittable);
    });
  }

  private async run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    if (this.inTransaction) {
      try {
        return await this.exec<R>(sql, parameters);
      } catch (e) {
        throw this.translate(e);
      } finally {
        if (END.test(sql)) this.inTransaction = false;
      }
    }
    if (BEGIN.test(sql)) {
      const result = await this.exec<R>(sql, parameters);
      this.inTransaction = true;
      await this.client.query(this.setLocal);
      return result;
    }
    const customPlan = this.prepared && sql.startsWith(PREPARED_READ_CUSTOM_PLAN);
    const name =
      customPlan || (this.prepared && sql.startsWith(PREPARED_READ)) ? statementName(sql) : undefined;
    try {
      return await this.timedRead<R>(sql, parameters, name, customPlan);
    } catch (e) {
      // The pipeline stopped at the error inside its transaction: end it before the connection
      // goes back to the pool (harmless when the error came before BEGIN took effect).
      await this.client.query('ROLLBACK').catch(() => undefined);
      if (name === undefined) throw this.translate(e);
      // node-postgres records a name as prepared at the pipeline's first ParseComplete (BEGIN's),
      // so after an error it cannot be told whether the statement exists on this connection: the
      // connection is closed on release instead of reused (errors of reads are rare).
      this.stale = true;
      if (!isStalePlan(e)) throw this.translate(e);
      // A table the prepared statement reads changed its row type (a migration while serving):
      // the read runs once more, unprepared.
      try {
        return await this.timedRead<R>(sql, parameters, undefined);
      } catch (retryError) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw this.translate(retryError);
      }
    }
  }

  private translate(e: unknown): unknown {
    const { code, message } = (typeof e === 'object' && e !== null ? e : {}) as {
      code?: unknown;
      message?: unknown;
    };
    if (code === '57014' && typeof message === 'string' && message.includes('statement timeout'))
      return new DomainError(
        'BAD_USER_INPUT',
        `the read took longer than the ${this.timeoutMs} ms a read may take: narrow the filter or ask for a smaller page`,
        { timeoutMs: this.timeoutMs },
      );
    return e;
  }
}

/** PostgreSQL's answer to a prepared statement whose result row type changed under it. */
function isStalePlan(e: unknown): boolean {
  const { code, message } = (typeof e === 'object' && e !== null ? e : {}) as {
    code?: unknown;
    message?: unknown;
  };
  return (
    code === '0A000' &&
    typeof message === 'string' &&
    message.includes('cached plan must not change result type')
  );
}
