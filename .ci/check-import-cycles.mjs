#!/usr/bin/env node
/**
 * Fails when the relative imports of src/ (and migrations/) form a cycle. Light on purpose: the
 * TypeScript compiler's own pre-processor lists each file's imports (no type check, no resolver
 * plugin), `./x.js` resolves to `./x.ts`, and Tarjan's algorithm finds the strongly connected
 * components. Type-only imports count too: a cycle of types is still two modules that cannot be
 * understood (or moved) one without the other. Run by `npm run lint`.
 * Usage: node .ci/check-import-cycles.mjs [folder …]   (default: src migrations)
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const folders = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'migrations'];
const SKIP = new Set(['node_modules', 'dist', 'generated', 'graphiql-assets']);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function resolve(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [
    base.replace(/\.(m?js|jsx)$/, (m) => (m === '.mjs' ? '.mts' : '.ts')),
    base,
    `${base}.ts`,
    path.join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

const files = folders.flatMap((f) =>
  existsSync(path.resolve(root, f)) ? walk(path.resolve(root, f), []) : [],
);
const graph = new Map();
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const deps = new Set();
  for (const ref of info.importedFiles) {
    const target = resolve(file, ref.fileName);
    if (target) deps.add(target);
  }
  graph.set(file, deps);
}

// Tarjan's strongly connected components, iterative (no recursion limit on deep graphs).
let index = 0;
const idx = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const cycles = [];
for (const start of graph.keys()) {
  if (idx.has(start)) continue;
  const work = [[start, [...(graph.get(start) ?? [])], 0]];
  idx.set(start, index);
  low.set(start, index++);
  stack.push(start);
  onStack.add(start);
  while (work.length) {
    const frame = work[work.length - 1];
    const [node, deps] = frame;
    if (frame[2] < deps.length) {
      const next = deps[frame[2]++];
      if (!graph.has(next)) continue;
      if (!idx.has(next)) {
        idx.set(next, index);
        low.set(next, index++);
        stack.push(next);
        onStack.add(next);
        work.push([next, [...(graph.get(next) ?? [])], 0]);
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), idx.get(next)));
      continue;
    }
    work.pop();
    if (work.length) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(node)));
    }
    if (low.get(node) === idx.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = component.length === 1 && graph.get(node)?.has(node);
      if (component.length > 1 || selfLoop) cycles.push(component);
    }
  }
}

const rel = (f) => path.relative(root, f);
if (cycles.length) {
  console.error(`import cycles (${cycles.length}):`);
  for (const c of cycles) {
    const members = new Set(c);
    console.error(`  - ${c.map(rel).sort().join(', ')}`);
    for (const m of [...c].sort()) {
      const inside = [...(graph.get(m) ?? [])].filter((d) => members.has(d)).map(rel);
      console.error(`      ${rel(m)} → ${inside.join(', ')}`);
    }
  }
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} modules (${folders.join(', ')})`);
