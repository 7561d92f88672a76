import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'graphql';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { BoundedDocumentStore } from '../src/http/document-store.js';
import { createApp, type App } from '../src/http/server.js';
import { DisabledJobGateway } from '../src/jobs/gateway.js';
import { createServices } from '../src/services.js';
import { signToken } from '../src/auth/tokens.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { TEST_SECRET } from './helpers/app.js';

/**
 * Issue 10.1, the memory half of the 3,000-new-operationName probe: Apollo caches every parsed
 * document; its default cache let ever-new documents hold hundreds of MB. The store is bounded by
 * entries and by total source length.
 */

const doc = (name: string, pad = 0) => parse(`query ${name} { __typename ${' '.repeat(pad)}}`);

describe('BoundedDocumentStore', () => {
  it('evicts the least recently used beyond maxEntries', async () => {
    const store = new BoundedDocumentStore(3, 1_000_000);
    for (const k of ['a', 'b', 'c']) await store.set(k, doc(k));
    expect(await store.get('a')).toBeDefined(); // a is now the most recent
    await store.set('d', doc('d'));
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('d')).toBeDefined();
  });

  it('bounds the total source length, keeps no document over a tenth of it, and counts replacements once', async () => {
    const store = new BoundedDocumentStore(1000, 1000);
    await store.set('big', doc('Big', 200)); // > 100 characters: not cached
    expect(store.size).toBe(0);
    for (let i = 0; i < 100; i += 1) await store.set(`k${i}`, doc(`Q${i}`, 50));
    expect(store.chars).toBeLessThanOrEqual(1000);
    expect(store.size).toBeLessThan(100);
    const before = store.chars;
    await store.set('k99', doc('Q99', 50));
    expect(store.chars).toBe(before);
    expect(await store.delete('k99')).toBe(true);
    expect(await store.delete('k99')).toBe(false);
  });
});

describe('the running service', () => {
  let database: TestDatabase;
  let app: App;
  let url: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', AUTH_JWT_SECRET: TEST_SECRET, DATABASE_URL: database.url });
    const services = createServices({
      config,
      log: pino({ level: 'silent' }),
      pool: database.pool,
      db: database.db,
      jwtSecret: TEST_SECRET,
      jobs: new DisabledJobGateway(),
    });
    app = await createApp(services);
    url = await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await database.drop();
  });

  it('uses the bounded store: 1,500 new documents leave at most 1,000 cached, and repeats still hit', async () => {
    const token = await signToken(TEST_SECRET, { sub: 'u', orgs: ['HOLNG'], role: 'viewer' });
    const send = (name: string) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `query ${name} { __typename }` }),
      }).then((r) => r.json() as Promise<{ data?: unknown }>);
    expect(await send('First')).toEqual({ data: { __typename: 'Query' } });
    expect(app.documentStore.size).toBe(1);
    for (let i = 0; i < 1500; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => send(`New_${i + j}`)));
    expect(app.documentStore.size).toBe(app.documentStore.maxEntries);
    const size = app.documentStore.size;
    await send('New_1499'); // cached: no new entry
    expect(app.documentStore.size).toBe(size);
  }, 180_000);
});
