/**
 * GraphQL subscriptions over graphql-ws on the API's own port and path (`/graphql`, DOMAIN §5.1).
 *
 * - `connectionParams { authorization, "x-session-id" }`: the same token rules as HTTP; a missing,
 *   bad or expired token closes the socket with 4401, and a connection is closed with 4401 when
 *   its token expires (a client reconnects with a fresh one).
 * - Only subscription operations: queries and mutations go over HTTP, where the limits apply.
 * - Each subscription reads its own bounded queue (src/events/stream.ts), and graphql-ws awaits
 *   each socket's writes separately: a slow or dead subscriber holds up no other; dead sockets
 *   are dropped by the keep-alive ping (12 s), and a socket whose unsent data passes 4 MB is closed.
 */
import type http from 'node:http';
import { GraphQLError, getOperationAST, parse, validate, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Principal } from '../auth/claims.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { DomainError } from '../domain/errors.js';
import { createContext } from '../graphql/context.js';
import { MAX_DOCUMENT_TOKENS } from '../graphql/limits.js';
import type { Services } from '../services.js';
import type { PersistedQueries } from './persisted-queries.js';

export const TOKEN_EXPIRED_CLOSE = 4401;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ConnectionState {
  principal: Principal;
  sessionHeader: string | null;
  expiryTimer: NodeJS.Timeout | null;
}

type Extra = {
  socket: WebSocket;
  request: http.IncomingMessage;
  state?: ConnectionState;
};

/** `exp` of a token that has just been verified (its signature and claims are already checked). */
function expiryOf(authorization: string): number | null {
  const payload = authorization.replace(/^Bearer\s+/i, '').split('.')[1];
  if (!payload) return null;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

function errorOf(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

export interface Subscriptions {
  /** Open WebSocket connections. */
  readonly connections: number;
  close(): Promise<void>;
}

export function attachSubscriptions(args: {
  server: http.Server;
  schema: GraphQLSchema;
  services: Services;
  tokens: TokenVerifier;
  persisted: PersistedQueries;
  log: Logger;
  formatError: (
    formatted: ReturnType<GraphQLError['toJSON']>,
    error: unknown,
  ) => ReturnType<GraphQLError['toJSON']>;
}): Subscriptions {
  const { server, schema, services, tokens, persisted, log } = args;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 1_000_000 });
  let requestSeq = 0;

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const authorization = params.authorization ?? params.Authorization;
        const session = params['x-session-id'] ?? params['X-Session-Id'];
        let principal: Principal;
        try {
          if (typeof authorization !== 'string') throw new DomainError('UNAUTHENTICATED', 'no token');
          principal = await tokens.verify(authorization);
        } catch (err) {
          log.debug({ err }, 'subscription connection refused');
          ctx.extra.socket.close(TOKEN_EXPIRED_CLOSE, 'Unauthorized');
          return false;
        }
        const exp = expiryOf(authorization);
        let expiryTimer: NodeJS.Timeout | null = null;
        if (exp !== null) {
          const ms = Math.max(0, exp * 1000 - Date.now());
          // Tokens live at most AUTH_MAX_TOKEN_LIFETIME (≤ 1 year): beyond a timer's range, re-arm.
          const arm = (left: number): NodeJS.Timeout =>
            setTimeout(
              () => {
                if (left > MAX_TIMER_MS) expiryTimer = arm(left - MAX_TIMER_MS);
                else ctx.extra.socket.close(TOKEN_EXPIRED_CLOSE, 'Token expired');
              },
              Math.min(left, MAX_TIMER_MS),
            );
          expiryTimer = arm(ms);
          expiryTimer.unref();
        }
        ctx.extra.state = {
          principal,
          sessionHeader: typeof session === 'string' && session !== '' ? session : null,
          expiryTimer,
        };
        return true;
      },
      onClose(ctx) {
        if (ctx.extra.state?.expiryTimer) clearTimeout(ctx.extra.state.expiryTimer);
      },
      onSubscribe(ctx, _id, payload) {
        const state = ctx.extra.state;
        if (!state) return [errorOf('UNAUTHENTICATED', 'not authenticated')];
        const allowed = persisted.allowSubscription(payload.query, payload.extensions);
        if (typeof allowed !== 'string') return [errorOf(allowed.code, allowed.message)];
        let document;
        try {
          document = parse(allowed, { maxTokens: MAX_DOCUMENT_TOKENS });
        } catch (e) {
          return [errorOf('GRAPHQL_PARSE_FAILED', e instanceof Error ? e.message : String(e))];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors.map((e) => errorOf('GRAPHQL_VALIDATION_FAILED', e.message));
        const operation = getOperationAST(document, payload.operationName ?? undefined);
        if (!operation) return [errorOf('BAD_REQUEST', 'no operation to run (operationName?)')];
        if (operation.operation !== 'subscription')
          return [
            errorOf(
              'BAD_REQUEST',
              `only subscriptions go over WebSocket; send ${operation.operation}s as HTTP POST /graphql`,
            ),
          ];
        const requestId = `ws-${process.pid}-${++requestSeq}`;
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: createContext({
            requestId,
            principal: state.principal,
            sessionHeader: state.sessionHeader,
            services,
            log: log.child({ requestId }),
          }),
        };
      },
      onNext(ctx, _id, _payload, _args, result) {
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          log.warn({ buffered: socket.bufferedAmount }, 'subscriber too slow: connection closed');
          socket.terminate();
        }
        if (!result.errors?.length) return;
        return {
          ...result,
          errors: result.errors.map((e) => args.formatError(e.toJSON(), e)),
        };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => args.formatError(e.toJSON(), e));
      },
    },
    wss,
  );

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await disposable.dispose();
      for (const client of wss.clients) client.terminate();
    },
  };
}
