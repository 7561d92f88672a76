import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Notes for the client that are not errors (e.g. "no record has category \"Crane\"; closest:
 * \"Cranes\""), sent in the response's top-level `extensions.hints`. Resolvers add them to the
 * request's context; the plugin writes them out.
 */
const store = new WeakMap<object, unknown[]>();

export function addHints(context: object, hints: readonly unknown[]): void {
  if (hints.length === 0) return;
  store.set(context, [...(store.get(context) ?? []), ...hints]);
}

/** Whether a request has hints to send (an answer with hints is not cached). */
export function hasHints(context: object): boolean {
  return store.has(context);
}

export function hintsPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response, contextValue }) {
          const hints = store.get(contextValue);
          if (hints && response.body.kind === 'single')
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, hints };
          return Promise.resolve();
        },
      });
    },
  };
}
