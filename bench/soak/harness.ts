/**
 * The soak test (issue 9, point 6): many planners at once against a flaky PEMS and a database
 * that drops connections, then checked independently of the service's answers.
 *
 * Setup: a fresh database `pfa_soak_<pid>` on DATABASE_URL's server (migrated, seeded with the
 * seed code), a private redis-server, the PEMS simulator in this process over the same
 * generated data, and the service's API (`src/main.ts`) and worker (`src/worker.ts`) as child
 * processes configured through their environment.
 *
 * Load: simulated users (bench/soak/users.ts) edit, bulk-edit, commit, resolve and discard at
 * random over GraphQL/HTTP, on a shared hot set, on records only they write, and in commit
 * races. Meanwhile the simulator cycles through 5xx, 429, latency and lost responses, PEMS
 * users edit hot records (stale recordids), the harness terminates the service's database
 * connections (≥ 3 times) and SIGKILLs the worker once (then starts a new one).
 *
 * End: faults off, write-back drained (a bounded wait for the sweep, then syncToPems as admin),
 * then the invariants on SQL and the simulator's write log (bench/soak/checks.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signToken } from '../../src/auth/tokens.js';
import { startPemsSimulator, type PemsFaults, type PemsSimulator } from '../../src/pems/simulator.js';
import { checkOverlay, runChecks } from './checks.js';
import { GraphqlClient } from './client.js';
import {
  createSoakDatabase,
  freePort,
  sleep,
  startPrivateRedis,
  startService,
  tail,
  waitForHttp,
  waitForLog,
  type PrivateRedis,
  type ServiceProcess,
  type SoakDatabase,
} from './infra.js';
import { rnd, seedRandom } from './rng.js';
import { SoakSession, SoakUser, race } from './users.js';
import { TRACKED_FIELDS, World, type SoakRecord, type Violation } from './world.js';

export interface SoakOptions {
  users: number;
  /** Load duration. */
  seconds: number;
  records: number;
  orgs: number;
  seed?: number;
  keep: boolean;
  /** Admin URL of the PostgreSQL server the soak database is created on. */
  databaseUrl: string;
  /** Used only when no redis-server can be started. */
  redisUrl?: string;
  /** Bounded wait for write-back at the end (sweep first, then syncToPems). */
  drainSeconds: number;
  /** Of the drain, how long to wait for the service's own sweep before asking for a write-back. */
  sweepWaitSeconds: number;
  /** Times the service's connections are terminated (≥ 3). */
  connectionKills: number;
  hotRecords: number;
  privatePerSession: number;
  progress: 'tty' | 'lines' | 'none';
  logDir?: string;
  /** Extra environment for the API and worker. */
  env?: Record<string, string>;
}

export interface SoakReport {
  ok: boolean;
  violations: Violation[];
  counts: Record<string, number>;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  faults: Record<string, number>;
  info: string[];
  logDir: string;
  database: string;
  seconds: number;
}

const FAULT_PHASES: { name: string; faults: Partial<PemsFaults> }[] = [
  { name: 'none', faults: {} },
  { name: '500', faults: { errorRate: 0.3, status: 500 } },
  { name: 'latency', faults: { latencyMs: 300 } },
  { name: '429', faults: { errorRate: 0.3, status: 429, retryAfterSeconds: 1 } },
  { name: 'lost-response', faults: { errorRate: 0.25, status: 503, failAfterApply: true } },
  { name: '502+latency', faults: { errorRate: 0.2, status: 502, latencyMs: 100 } },
];

function fmt(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  if (options.seed !== undefined) seedRandom(options.seed);
  const tag = `sk${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const world = new World(tag);
  const info: string[] = [];
  const logDir = options.logDir ?? path.join(os.tmpdir(), `pfa-soak-${process.pid}`);
  mkdirSync(logDir, { recursive: true });
  world.traceTo(path.join(logDir, 'soak-trace.jsonl'));
  const dbName = `pfa_soak_${process.pid}`;
  const say = (line: string): void => {
    if (options.progress !== 'none') process.stdout.write(`[soak ${world.seconds().toFixed(0)}s] ${line}\n`);
  };

  let db: SoakDatabase | null = null;
  let redis: PrivateRedis | null = null;
  let sim: PemsSimulator | null = null;
  let api = null as ServiceProcess | null;
  let worker = null as ServiceProcess | null;
  let workerStarts = 0;
  let apiStarts = 0;
  let finishing = false;
  const planned = new Set<ServiceProcess>();
  const faults: Record<string, number> = {
    pemsEdits: 0,
    connectionKills: 0,
    backendsTerminated: 0,
    workerKills: 0,
  };

  try {
    say(
      `setting up: database ${dbName} (${options.records} records, ${options.orgs} orgs), Redis, PEMS simulator`,
    );
    db = await createSoakDatabase(options.databaseUrl, dbName, {
      records: options.records,
      orgs: options.orgs,
    });
    redis = await startPrivateRedis(path.join(logDir, 'redis.log'));
    const redisUrl = redis?.url ?? options.redisUrl;
    if (!redisUrl) throw new Error('no redis-server on PATH and no REDIS_URL');
    if (!redis)
      info.push(`no redis-server on PATH: using REDIS_URL ${redisUrl} with the default queue prefix`);
    sim = await startPemsSimulator({ orgs: options.orgs, records: options.records });
    const orgs = sim.organizations.map((o) => o.id);

    const secret = randomBytes(24).toString('base64url');
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      AUTH_JWT_SECRET: secret,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      PEMS_URL: sim.url,
      PEMS_RATE_LIMIT_PER_SECOND: '1000',
      PEMS_TIMEOUT_MS: '5000',
      KPI_REFRESH_INTERVAL_MS: '5000',
      WRITE_SYNC_SWEEP_INTERVAL_MS: '2000',
      // The planned worker SIGKILL leaves claims behind: they return after this lease.
      WRITE_SYNC_LEASE_MS: '15000',
      READ_SYNC_INTERVAL_MS: '15000',
      DB_POOL_MAX: '10',
      ...options.env,
    };

    const watch = (p: ServiceProcess): void => {
      void p.exited.then(({ code, signal }) => {
        if (planned.has(p) || finishing) return;
        world.violate(
          'no-process-exit',
          `${p.name} exited unplanned (code ${code}, signal ${signal}); last log lines:\n${tail(p.logFile, 8)}`,
        );
        say(`!! ${p.name} exited (code ${code}, signal ${signal}): restarting it`);
        if (p.name.startsWith('api'))
          void startApi().catch((e: unknown) => say(`api restart failed: ${String(e)}`));
        else void startWorker().catch((e: unknown) => say(`worker restart failed: ${String(e)}`));
      });
    };
    const startApi = async (): Promise<void> => {
      apiStarts += 1;
      const p = startService(
        `api-${apiStarts}`,
        'main.ts',
        { ...env, HOST: '127.0.0.1', PORT: String(port) },
        path.join(logDir, `api-${apiStarts}.log`),
      );
      api = p;
      watch(p);
      await waitForHttp(`${apiUrl}/healthz`, p, 180_000);
    };
    const startWorker = async (): Promise<void> => {
      workerStarts += 1;
      const p = startService(
        `worker-${workerStarts}`,
        'worker.ts',
        env,
        path.join(logDir, `worker-${workerStarts}.log`),
      );
      worker = p;
      watch(p);
      await waitForLog(p, 'job worker started', 180_000);
    };
    await Promise.all([startApi(), startWorker()]);
    say(`service up at ${apiUrl}; logs in ${logDir}`);

    // Records: hot (everyone + PEMS users), private (one session each), race (commit races).
    const users: SoakUser[] = [];
    const hotByOrg = new Map<string, SoakRecord[]>();
    const raceByOrg = new Map<string, SoakRecord[]>();
    const usersByOrg = new Map<string, SoakUser[]>();
    for (let u = 0; u < options.users; u++) {
      const org = orgs[u % orgs.length] as string;
      const token = await signToken(secret, { sub: `soak-user-${u}`, orgs, role: 'editor' }, '6h');
      const user = new SoakUser(`soak-user-${u}`, org, new GraphqlClient(apiUrl, token), world);
      users.push(user);
      usersByOrg.set(org, [...(usersByOrg.get(org) ?? []), user]);
    }
    for (const org of orgs) {
      const orgUsers = usersByOrg.get(org) ?? [];
      const sessions = orgUsers.length * 2;
      const need = options.hotRecords + 3 + sessions * options.privatePerSession;
      const { rows } = await db.pool.query<{ id: string; pfa_id: string }>(
        `SELECT id::text, pfa_id FROM pfa_mirror
         WHERE organization_id = $1 AND is_discontinued IS NOT TRUE AND forecast_start IS NOT NULL
           AND forecast_end IS NOT NULL
         ORDER BY id LIMIT $2`,
        [org, need],
      );
      if (rows.length < need)
        throw new Error(`${org} has ${rows.length} usable records, the soak needs ${need}: raise --records`);
      const make = (i: number, cls: SoakRecord['cls'], owner?: string): SoakRecord => {
        const r = rows[i] as { id: string; pfa_id: string };
        const rec: SoakRecord = { org, id: r.id, pfaId: r.pfa_id, cls, ...(owner ? { owner } : {}) };
        world.records.set(world.recordKey(org, r.id), rec);
        return rec;
      };
      let i = 0;
      const hot = Array.from({ length: options.hotRecords }, () => make(i++, 'hot'));
      const races = Array.from({ length: 3 }, () => make(i++, 'race'));
      hotByOrg.set(org, hot);
      raceByOrg.set(org, races);
      for (const user of orgUsers) {
        for (const suffix of ['a', 'b']) {
          const sid = `${user.name.replace('soak-user-', 'u')}-${suffix}`;
          const privateRecords = Array.from({ length: options.privatePerSession }, () =>
            make(i++, 'private', `${org}/${sid}`),
          );
          user.sessions.push(new SoakSession(user, org, sid, privateRecords));
        }
        user.raceSession = new SoakSession(user, org, `${user.name.replace('soak-user-', 'u')}-race`, []);
      }
    }
    const adminToken = await signToken(secret, { sub: 'soak-admin', orgs, role: 'admin' }, '6h');
    const admin = new GraphqlClient(apiUrl, adminToken);

    // ---------------------------------------------------------------------------------------
    // Load and chaos
    const loadStart = Date.now();
    const loadEnd = loadStart + options.seconds * 1000;
    let stop = false;
    const running = (): boolean => !stop && Date.now() < loadEnd;
    const tasks: Promise<void>[] = [];

    for (const user of users) {
      tasks.push(
        (async () => {
          const hot = hotByOrg.get(user.org) ?? [];
          while (running()) {
            try {
              await user.step(hot);
            } catch (e) {
              world.violate(
                'harness',
                `user ${user.name} step threw: ${e instanceof Error ? e.stack : String(e)}`,
              );
            }
            await sleep(rnd() * 20);
          }
        })(),
      );
    }
    for (const org of orgs) {
      const orgUsers = usersByOrg.get(org) ?? [];
      const races = raceByOrg.get(org) ?? [];
      if (orgUsers.length < 2) {
        info.push(`${org}: fewer than 2 users, no commit races`);
        continue;
      }
      tasks.push(
        (async () => {
          let n = 0;
          while (running()) {
            const rec = races[n++ % races.length] as SoakRecord;
            const [a, b] = [...orgUsers].sort(() => rnd() - 0.5) as [SoakUser, SoakUser];
            try {
              await race(world, a, b, rec);
            } catch (e) {
              world.violate('harness', `race threw: ${e instanceof Error ? e.stack : String(e)}`);
            }
            await sleep(100 + rnd() * 200);
          }
        })(),
      );
    }
    // PEMS users editing hot records: the service's recordids go stale.
    tasks.push(
      (async () => {
        while (running()) {
          await sleep(300 + rnd() * 400);
          const hot = hotByOrg.get(orgs[Math.floor(rnd() * orgs.length)] as string) ?? [];
          if (!hot.length || !sim) continue;
          const rec = hot[Math.floor(rnd() * hot.length)] as SoakRecord;
          const field = TRACKED_FIELDS[Math.floor(rnd() * TRACKED_FIELDS.length)] as string;
          world.touch(rec, [field], 'pems');
          try {
            const value = world.freshValue(field);
            const after = sim.changeRecord(rec.org, rec.pfaId, { [field]: value });
            world.trace({
              op: 'pems-edit',
              record: rec.id,
              pfaId: rec.pfaId,
              field,
              value,
              recordid: after.recordid,
            });
            faults.pemsEdits = (faults.pemsEdits ?? 0) + 1;
          } catch (e) {
            world.violate('harness', `PEMS edit failed: ${String(e)}`);
          }
        }
      })(),
    );
    // Simulator fault phases.
    const phaseMs = Math.max(3_000, (options.seconds * 1000) / 14);
    tasks.push(
      (async () => {
        let p = 0;
        while (running()) {
          const phase = FAULT_PHASES[p++ % FAULT_PHASES.length] as (typeof FAULT_PHASES)[number];
          sim?.setFaults(phase.faults);
          if (phase.name !== 'none') faults[`phase:${phase.name}`] = (faults[`phase:${phase.name}`] ?? 0) + 1;
          const until = Date.now() + phaseMs;
          while (running() && Date.now() < until) await sleep(100);
        }
        sim?.resetFaults();
      })(),
    );
    // Connection kills and the worker kill, at fixed points of the run.
    const kills = Math.max(3, options.connectionKills);
    const events: { at: number; what: 'connections' | 'worker' }[] = [
      ...Array.from({ length: kills }, (_, k) => ({
        at: 0.12 + (0.76 * k) / Math.max(1, kills - 1),
        what: 'connections' as const,
      })),
      { at: 0.45, what: 'worker' as const },
    ].sort((a, b) => a.at - b.at);
    tasks.push(
      (async () => {
        for (const ev of events) {
          const when = loadStart + ev.at * options.seconds * 1000;
          while (running() && Date.now() < when) await sleep(100);
          if (!running()) break;
          if (ev.what === 'connections' && db) {
            const n = await db.killConnections().catch(() => 0);
            faults.connectionKills = (faults.connectionKills ?? 0) + 1;
            faults.backendsTerminated = (faults.backendsTerminated ?? 0) + n;
            world.trace({ op: 'connection-kill', backends: n });
            say(`terminated ${n} service connections (pg_terminate_backend)`);
          } else if (ev.what === 'worker' && worker) {
            const w: ServiceProcess = worker;
            planned.add(w);
            w.child.kill('SIGKILL');
            await w.exited;
            faults.workerKills = (faults.workerKills ?? 0) + 1;
            world.trace({ op: 'worker-kill' });
            say('worker SIGKILLed; starting a new one in 2 s');
            // In the background: the next connection kill must not wait for the worker to boot.
            tasks.push(
              sleep(2_000)
                .then(() => startWorker())
                .then(() => say('new worker ready'))
                .catch((e: unknown) => world.violate('harness', `worker restart failed: ${String(e)}`)),
            );
          }
        }
      })(),
    );
    // Progress.
    const tty = options.progress === 'tty';
    let lastOps = 0;
    let lastAt = Date.now();
    const progress = setInterval(
      () => {
        const c = world.counts;
        const ops = c.requests ?? 0;
        const rate = ((ops - lastOps) * 1000) / Math.max(1, Date.now() - lastAt);
        lastOps = ops;
        lastAt = Date.now();
        const st = sim?.stats().requests;
        const left = Math.max(0, Math.round((loadEnd - Date.now()) / 1000));
        const line =
          `${left}s left · req ${fmt(ops)} (${rate.toFixed(0)}/s) · edits ${fmt(c.edits ?? 0)} bulk ${c.bulkEdits ?? 0} · ` +
          `commits ${c.commits ?? 0} conflicts ${c.commitConflicts ?? 0}+${c.writeBackConflictsSeen ?? 0}wb · races ${c.races ?? 0} · ` +
          `PEMS writes ${sim?.writes().filter((w) => w.via === 'update').length ?? 0} faults ${st?.injectedFailures ?? 0} · ` +
          `violations ${world.violations.length}`;
        if (tty) process.stdout.write(`\r\x1b[2K${line}`);
        else if (options.progress === 'lines') say(line);
      },
      tty ? 1000 : 10_000,
    );
    progress.unref();
    while (tasks.length) await Promise.all(tasks.splice(0));
    stop = true;
    clearInterval(progress);
    if (tty) process.stdout.write('\n');

    // ---------------------------------------------------------------------------------------
    // Faults off, write-back drained
    const overlaid = await checkOverlay(world, db as SoakDatabase, 'when the load stopped');
    info.push(`pending overlay checked when the load stopped: ${overlaid} records with pending changes`);
    sim.resetFaults();
    say('load over: faults off, draining write-back');
    const pendingCounts = async (): Promise<{ committed: number; syncing: number; erred: number }> => {
      const { rows } = await (db as SoakDatabase).pool.query<{
        committed: string;
        syncing: string;
        erred: string;
      }>(
        `SELECT count(*) FILTER (WHERE sync_state = 'committed') AS committed,
                count(*) FILTER (WHERE sync_state = 'syncing') AS syncing,
                count(*) FILTER (WHERE sync_state = 'committed' AND last_error IS NOT NULL) AS erred
         FROM pfa_modification`,
      );
      const r = rows[0];
      return { committed: Number(r?.committed), syncing: Number(r?.syncing), erred: Number(r?.erred) };
    };
    const drainStart = Date.now();
    const drainEnd = drainStart + options.drainSeconds * 1000;
    const sweepEnd = drainStart + Math.min(options.sweepWaitSeconds, options.drainSeconds) * 1000;
    let counts = await pendingCounts();
    const atLoadEnd = counts;
    while (Date.now() < sweepEnd && counts.committed + counts.syncing > 0) {
      await sleep(1000);
      counts = await pendingCounts();
    }
    const bySweep = counts.committed + counts.syncing === 0;
    info.push(
      `at the end of the load ${atLoadEnd.committed} committed + ${atLoadEnd.syncing} syncing; ` +
        (bySweep
          ? `the service wrote them back by itself in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`
          : `${counts.committed} committed + ${counts.syncing} syncing still waiting after ${options.sweepWaitSeconds} s without a trigger (sweep)`),
    );
    let triggers = 0;
    while (Date.now() < drainEnd && counts.committed + counts.syncing > 0) {
      for (const org of orgs) {
        const out = await admin.request('mutation($o: ID!) { syncToPems(organizationId: $o) { jobId } }', {
          o: org,
        });
        triggers += 1;
        if (!out.ok) world.error('syncToPems', out.code, out.message);
      }
      const next = Date.now() + 5_000;
      while (Date.now() < next && Date.now() < drainEnd) {
        await sleep(500);
        counts = await pendingCounts();
        if (counts.committed + counts.syncing === 0) break;
      }
    }
    info.push(
      `drain: ${triggers} syncToPems triggers; after ${((Date.now() - drainStart) / 1000).toFixed(1)} s: ` +
        `${counts.committed} committed (${counts.erred} with an error) + ${counts.syncing} syncing left`,
    );

    // ---------------------------------------------------------------------------------------
    // Invariants
    say('checking invariants');
    await runChecks({ world, db, sim, admin, orgs, users, info });
    const st = sim.stats().requests;
    faults['http5xx'] = Object.entries(st.injectedByStatus)
      .filter(([s]) => s.startsWith('5'))
      .reduce((a, [, n]) => a + n, 0);
    faults['http429'] = st.injectedByStatus['429'] ?? 0;
    faults['lostResponses'] = st.lostResponses;
    faults['delayedRequests'] = st.delayed;
    faults['staleRejected'] = st.staleRejected;
    const writes = sim.writes();
    world.counts.pemsWriteBacks = writes.filter((w) => w.via === 'update').length;
    // PEMS's side of the story, next to the trace: every write it applied, in order.
    writeFileSync(
      path.join(logDir, 'pems-writes.jsonl'),
      writes.map((w) => `${JSON.stringify(w)}\n`).join(''),
    );
  } finally {
    await world.closeTrace();
    finishing = true;
    const stopping = [api, worker].filter((p): p is ServiceProcess => p !== null);
    for (const p of stopping) planned.add(p);
    await Promise.all(stopping.map((p) => p.stop().catch(() => undefined)));
    await sim?.close().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    if (db) {
      if (options.keep) {
        await db.pool.end().catch(() => undefined);
        info.push(`database ${dbName} kept (--keep)`);
      } else await db.drop().catch((e: unknown) => info.push(`could not drop ${dbName}: ${String(e)}`));
    }
  }
  return {
    ok: world.violations.length === 0,
    violations: world.violations,
    counts: world.counts,
    errors: world.errors,
    errorSamples: world.errorSamples,
    faults,
    info,
    logDir,
    database: dbName,
    seconds: world.seconds(),
  };
}

/** The report as text: counts, faults, errors, violations grouped by invariant. */
export function formatReport(r: SoakReport, maxPerInvariant = 5): string {
  const lines: string[] = [];
  const c = r.counts;
  lines.push(`soak: ${r.ok ? 'PASSED' : 'FAILED'} in ${r.seconds.toFixed(0)} s (logs: ${r.logDir})`);
  lines.push(
    `  operations: ${c.requests ?? 0} requests · ${c.edits ?? 0} edits · ${c.bulkEdits ?? 0} bulk edits (${c.bulkRecords ?? 0} records) · ` +
      `${c.pairs ?? 0} edit+bulk pairs · ${c.commits ?? 0} commits acknowledged (${c.commitCalls ?? 0} calls) · ` +
      `${c.commitConflicts ?? 0} commit conflicts · ${c.writeBackConflictsSeen ?? 0} write-back conflicts seen · ` +
      `${c.keepMine ?? 0} KEEP_MINE · ${c.acceptTheirs ?? 0} ACCEPT_THEIRS · ${c.discards ?? 0} discards · ` +
      `${c.races ?? 0} commit races · ${c.reads ?? 0} reads · ${c.versionConflicts ?? 0} VERSION_CONFLICT`,
  );
  lines.push(`  write-backs applied in PEMS: ${c.pemsWriteBacks ?? 0}`);
  lines.push(
    `  faults injected: ${Object.entries(r.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}`,
  );
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  if (errs.length) {
    lines.push('  error answers (operation:code count — first message):');
    for (const [k, n] of errs) lines.push(`    ${k} ${n} — ${r.errorSamples[k] ?? ''}`);
  }
  for (const i of r.info) lines.push(`  note: ${i}`);
  const byInvariant = new Map<string, Violation[]>();
  for (const v of r.violations) byInvariant.set(v.invariant, [...(byInvariant.get(v.invariant) ?? []), v]);
  lines.push(`  invariant violations: ${r.violations.length}`);
  for (const [inv, list] of byInvariant) {
    lines.push(`  [${inv}] ${list.length}`);
    for (const v of list.slice(0, maxPerInvariant))
      lines.push(`    at ${v.atSeconds}s: ${v.detail.replace(/\n/g, '\n      ')}`);
    if (list.length > maxPerInvariant) lines.push(`    … ${list.length - maxPerInvariant} more`);
  }
  return lines.join('\n');
}
