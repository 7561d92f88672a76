#!/usr/bin/env node
/**
 * CI check of docker-compose.yml and the Dockerfile without Docker: `docker compose config -q`
 * when a Docker CLI with compose answers, and always a structural check — the services the
 * README promises (api, worker, postgres 15, redis) exist; every reference (depends_on, named
 * volumes, the app's DATABASE_URL/REDIS_URL/PEMS_URL hosts) points at something defined; commands
 * start files that `npm run build` produces; the Dockerfile is multi-stage, installs with
 * `npm ci --omit=dev`, runs as a non-root user and has a HEALTHCHECK on /healthz.
 * Exits 1 listing every problem. Usage: node .ci/check-compose.mjs [compose-file]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const composePath = path.resolve(root, process.argv[2] ?? 'docker-compose.yml');
const problems = [];
const problem = (msg) => problems.push(msg);

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');

// 1. Docker's own validation, when a Docker CLI with the compose plugin is there.
const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
if (compose.error || compose.status !== 0)
  console.log('docker compose: not available, structural check only');
else {
  const docker = spawnSync('docker', ['compose', '-f', composePath, 'config', '-q'], { encoding: 'utf8' });
  if (docker.status !== 0) problem(`docker compose config: ${(docker.stderr || docker.stdout).trim()}`);
  else console.log('docker compose config: ok');
}

// 2. Structure.
let doc;
try {
  doc = parse(readFileSync(composePath, 'utf8'), { merge: true, strict: true, uniqueKeys: true });
} catch (e) {
  problem(`${path.basename(composePath)} is not valid YAML: ${e.message}`);
}

const TOP_LEVEL = new Set(['name', 'services', 'volumes', 'networks', 'configs', 'secrets', 'include']);
const SERVICE_KEYS = new Set([
  'build',
  'image',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'volumes',
  'depends_on',
  'healthcheck',
  'restart',
  'init',
  'user',
  'working_dir',
  'networks',
  'deploy',
  'stop_grace_period',
  'stop_signal',
  'ulimits',
  'shm_size',
  'labels',
  'logging',
  'pull_policy',
  'profiles',
  'expose',
]);
const RESTART = new Set(['no', 'always', 'on-failure', 'unless-stopped']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;

/** Compose's environment: a map, or a list of KEY=VALUE. */
function envOf(service) {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env))
    return Object.fromEntries(
      env.map((e) => {
        const i = String(e).indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  return isObject(env) ? env : {};
}

/** A URL's host after ${VAR:-default} interpolation with the defaults. */
function hostOf(url) {
  const text = String(url).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
  try {
    return new URL(text).hostname;
  } catch {
    return null;
  }
}

if (isObject(doc)) {
  for (const key of Object.keys(doc))
    if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) problem(`unknown top-level key "${key}"`);
  const services = isObject(doc.services) ? doc.services : {};
  if (!isObject(doc.services)) problem('"services" must be a mapping');
  const volumes = isObject(doc.volumes) ? doc.volumes : {};
  const names = new Set(Object.keys(services));

  for (const required of ['api', 'worker', 'postgres', 'redis'])
    if (!names.has(required)) problem(`service "${required}" is missing`);
  if (services.postgres && !/^postgres:15(\.|-|$)/.test(String(services.postgres.image)))
    problem(`postgres must run PostgreSQL 15 (image postgres:15…), not ${services.postgres.image}`);
  if (services.redis && !/^redis:/.test(String(services.redis.image)))
    problem(`redis must use a redis image, not ${services.redis.image}`);

  for (const [name, s] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!isObject(s)) {
      problem(`${at} must be a mapping`);
      continue;
    }
    for (const key of Object.keys(s)) if (!SERVICE_KEYS.has(key)) problem(`${at}: unknown key "${key}"`);
    if (s.image === undefined && s.build === undefined) problem(`${at}: needs "image" or "build"`);
    if (s.build !== undefined) {
      const context = typeof s.build === 'string' ? s.build : s.build?.context;
      const dockerfile = (isObject(s.build) && s.build.dockerfile) || 'Dockerfile';
      if (typeof context !== 'string') problem(`${at}.build: needs a context`);
      else if (!existsSync(path.resolve(root, context, dockerfile)))
        problem(`${at}.build: ${path.join(context, dockerfile)} does not exist`);
    }
    if (s.restart !== undefined && !RESTART.has(String(s.restart)))
      problem(`${at}.restart: "${s.restart}" is not one of ${[...RESTART].join(', ')}`);
    for (const k of ['command', 'entrypoint'])
      if (s[k] !== undefined && typeof s[k] !== 'string' && !isStringList(s[k]))
        problem(`${at}.${k}: must be a string or a list of strings`);
    // A command that runs a compiled file must name one `npm run build` produces.
    const argv = Array.isArray(s.command) ? s.command : [];
    for (const arg of argv)
      if (/^dist\/.+\.js$/.test(arg)) {
        const source = arg.replace(/^dist\//, '').replace(/\.js$/, '.ts');
        if (!existsSync(path.resolve(root, source)))
          problem(`${at}.command: ${arg} has no source ${source} (npm run build would not produce it)`);
      }
    if (s.ports !== undefined) {
      if (!Array.isArray(s.ports)) problem(`${at}.ports: must be a list`);
      else
        for (const p of s.ports)
          if (
            typeof p !== 'string' ||
            !/^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?([0-9]+|\$\{[A-Z0-9_]+(:-[0-9]+)?\}):[0-9]+(\/(tcp|udp))?$/.test(
              p,
            )
          )
            problem(`${at}.ports: "${p}" is not [ip:]host:container`);
    }
    if (s.volumes !== undefined) {
      if (!Array.isArray(s.volumes)) problem(`${at}.volumes: must be a list`);
      else
        for (const v of s.volumes) {
          const source = typeof v === 'string' ? v.split(':')[0] : v?.source;
          if (typeof source !== 'string' || !source) problem(`${at}.volumes: entry without a source`);
          else if (!/^[./~]/.test(source) && !(source in volumes))
            problem(`${at}.volumes: named volume "${source}" is not declared under top-level volumes`);
        }
    }
    if (s.depends_on !== undefined) {
      const deps = Array.isArray(s.depends_on)
        ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }]))
        : s.depends_on;
      if (!isObject(deps)) problem(`${at}.depends_on: must be a list or a mapping`);
      else
        for (const [dep, spec] of Object.entries(deps)) {
          if (!names.has(dep)) problem(`${at}.depends_on: unknown service "${dep}"`);
          if (dep === name) problem(`${at}.depends_on: depends on itself`);
          const condition = isObject(spec) ? spec.condition : undefined;
          if (condition !== undefined && !CONDITIONS.has(condition))
            problem(`${at}.depends_on.${dep}: unknown condition "${condition}"`);
          if (condition === 'service_healthy') {
            const target = services[dep];
            const disabled = target?.healthcheck?.disable === true;
            const own = isObject(target?.healthcheck) && target.healthcheck.test !== undefined;
            const fromImage = target?.build !== undefined; // our Dockerfile has a HEALTHCHECK (checked below)
            if (disabled || (!own && !fromImage))
              problem(`${at}.depends_on.${dep}: waits for service_healthy but "${dep}" has no health check`);
          }
        }
    }
    if (s.healthcheck !== undefined) {
      const h = s.healthcheck;
      if (!isObject(h)) problem(`${at}.healthcheck: must be a mapping`);
      else if (h.disable !== true) {
        if (!(typeof h.test === 'string' || isStringList(h.test)))
          problem(`${at}.healthcheck.test: must be a string or a list`);
        else if (Array.isArray(h.test) && !['CMD', 'CMD-SHELL', 'NONE'].includes(h.test[0]))
          problem(`${at}.healthcheck.test: a list starts with CMD, CMD-SHELL or NONE`);
        for (const k of ['interval', 'timeout', 'start_period'])
          if (h[k] !== undefined && !DURATION.test(String(h[k])))
            problem(`${at}.healthcheck.${k}: "${h[k]}" is not a duration (5s, 1m30s)`);
      }
    }
    // The app's URLs must name services of this file.
    const env = envOf(s);
    for (const [k, want] of [
      ['DATABASE_URL', 'postgres'],
      ['REDIS_URL', 'redis'],
      ['PEMS_URL', null],
    ]) {
      if (env[k] === undefined) continue;
      const host = hostOf(env[k]);
      if (!host || !names.has(host)) problem(`${at}.environment.${k}: host "${host}" is not a service here`);
      else if (want && host !== want)
        problem(`${at}.environment.${k}: expected service "${want}", got "${host}"`);
    }
  }

  // What the service and the worker need to start in production (src/config.ts, src/worker.ts).
  for (const name of ['api', 'worker']) {
    const env = envOf(services[name] ?? {});
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'AUTH_JWT_SECRET'])
      if (!env[k]) problem(`services.${name}.environment: ${k} is required in production`);
  }
  if (services.api && !services.api.ports?.some((p) => /:4000$/.test(String(p))))
    problem('services.api.ports: must publish the container port 4000');
  const workerCmd = services.worker?.command;
  if (
    services.worker &&
    !(Array.isArray(workerCmd) ? workerCmd.join(' ') : String(workerCmd)).includes('worker.js')
  )
    problem('services.worker.command: must run dist/src/worker.js');
}

// 3. The Dockerfile the app services build.
const dockerfilePath = path.join(root, 'Dockerfile');
if (!existsSync(dockerfilePath)) problem('Dockerfile is missing');
else {
  const lines = readFileSync(dockerfilePath, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  if (froms.length < 2) problem('Dockerfile: must be multi-stage (at least two FROM)');
  const lastFrom = lines.lastIndexOf(froms.at(-1));
  const runtime = lines.slice(lastFrom);
  if (!runtime.some((l) => /^RUN\s.*npm ci\b.*--omit=dev/.test(l)))
    problem('Dockerfile: the runtime stage must install with npm ci --omit=dev');
  if (!runtime.some((l) => /^COPY\s+--from=\S+\s+\S*dist/.test(l)))
    problem('Dockerfile: the runtime stage must copy dist/ from the build stage');
  const user = runtime.filter((l) => /^USER\s/i.test(l)).at(-1);
  if (!user || /^USER\s+(root|0)(:|\s|$)/i.test(user))
    problem('Dockerfile: the runtime stage must switch to a non-root USER');
  if (!runtime.some((l) => /^HEALTHCHECK\s.*\/healthz/.test(l)))
    problem('Dockerfile: needs a HEALTHCHECK on /healthz');
  const cmd = runtime.filter((l) => /^CMD\s/i.test(l)).at(-1);
  if (!cmd || !cmd.includes('dist/src/main.js')) problem('Dockerfile: CMD must run dist/src/main.js');
  if (runtime.some((l) => /\btsx\b/.test(l)))
    problem('Dockerfile: the runtime stage must run compiled JavaScript, not tsx');
  if (!lines.some((l) => /^RUN\s.*npm run build/.test(l)))
    problem('Dockerfile: the build stage must run npm run build');
}

if (problems.length) {
  console.error(`compose/Dockerfile check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`${path.relative(root, composePath)} and Dockerfile: structure ok`);
