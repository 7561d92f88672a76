import {
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import { DomainError } from '../domain/errors.js';
import type { Db } from './database.js';
import type { Database } from './tables.js';

/**
 * A Kysely instance over the same pool whose statements run under a shorter statement timeout:
 * reads a client shapes (filters, orderings, pages) must not hold a connection as long as a
 * write may. Each statement runs in its own transaction that starts with
 * `SET LOCAL statement_timeout`, so the setting ends with it: nothing leaks to the next user of
 * the pooled connection, and it works through PgBouncer in transaction mode (DOMAIN §8: never a
 * session-level SET). The simple-protocol `BEGIN; SET LOCAL …` is one round trip, the statement
 * another, `COMMIT` a third. A transaction opened on this instance gets the same setting once.
 *
 * A statement cancelled by the timeout (SQLSTATE 57014) becomes BAD_USER_INPUT: the client asked
 * for more than a read may cost.
 */
export function createReadDb(pool: pg.Pool, timeoutMs: number): Db {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new ReadTimeoutPool(pool, timeoutMs) }),
  });
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end|abort)\b/i;

class ReadTimeoutPool implements PostgresPool {
  constructor(
    private readonly pool: pg.Pool,
    private readonly timeoutMs: number,
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    return new ReadTimeoutClient(await this.pool.connect(), Math.floor(this.timeoutMs));
  }

  /** The pool belongs to the main Db, which ends it. */
  async end(): Promise<void> {}
}

class ReadTimeoutClient implements PostgresPoolClient {
  private inTransaction = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {}

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
    this.client.release(destroy);
  }

  private exec<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    return this.client.query(sql, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
  }

  private async run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    const setLocal = `SET LOCAL statement_timeout = ${this.timeoutMs}`;
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
      await this.client.query(setLocal);
      return result;
    }
    // No parameters: node-postgres sends it with the simple protocol, both statements at once.
    await this.client.query(`BEGIN; ${setLocal}`);
    try {
      const result = await this.exec<R>(sql, parameters);
      await this.client.query('COMMIT');
      return result;
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw this.translate(e);
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
