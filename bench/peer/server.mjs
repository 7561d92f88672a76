// PostGraphile V5 (+ postgraphile-plugin-connection-filter) over the benchmark database: what a
// team gets by pointing PostGraphile at it instead of writing an API. Production mode: no
// GraphiQL, no explain, no watch mode, no websockets. Started by run.ts with a Node >= 22 binary
// (PostGraphile 5 needs it) as `GRAPHILE_ENV=production NODE_ENV=production node server.mjs`.
//
// Env:
//   PGPEER_DB_URL  connection URL (required; run.ts points it at the benchmark database)
//   PGPEER_PORT    HTTP port on 127.0.0.1 (default 5688)
//   PGPEER_SCHEMA  schema to expose (default public)
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makePgService } from 'postgraphile/adaptors/pg';
import { jsonPgSmartTags } from 'postgraphile/utils';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const connectionString = process.env.PGPEER_DB_URL;
if (!connectionString) {
  console.error('server.mjs: PGPEER_DB_URL is required');
  process.exit(2);
}
const port = Number(process.env.PGPEER_PORT ?? 5688);
const schema = process.env.PGPEER_SCHEMA ?? 'public';

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  // The default PgIndexBehaviorsPlugin offers filterBy/orderBy only on columns that lead a
  // NON-partial index. pfa_mirror's category, source, forecast_start, forecast_end and
  // is_discontinued are indexed only by partial indexes (WHERE is_discontinued IS NOT TRUE), so
  // the grid's filter and its ORDER BY forecast_start would be missing. Turning the plugin off is
  // the one-line change a user would make (the other way: @behavior +filterBy smart tags).
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  plugins: [
    // jsonb columns get -attribute:filterBy by default (no natural equality), which hides `data`
    // from the connection-filter input. This smart tag (configuration only, nothing is written to
    // the database) brings it back so `data: { contains: ... }` works.
    jsonPgSmartTags({
      version: 1,
      config: {
        attribute: {
          'pfa_mirror.data': { tags: { behavior: '+attribute:filterBy' } },
        },
      },
    }),
  ],
  pgServices: [makePgService({ connectionString, schemas: [schema] })],
  grafserv: {
    host: '127.0.0.1',
    port,
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// Build the schema before accepting traffic: the first request is not a cold start.
await pgl.getSchema();
const server = createServer();
server.keepAliveTimeout = 65_000;
serv.addTo(server);
server.listen(port, '127.0.0.1', () => {
  console.log(`READY pid=${process.pid} http://127.0.0.1:${port}/graphql schema=${schema}`);
});
const stop = async () => {
  server.close();
  server.closeAllConnections();
  await pgl.release();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
