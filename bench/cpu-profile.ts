/**
 * npx tsx bench/cpu-profile.ts <file.cpuprofile> [top]
 *
 * Summarises a V8 CPU profile (from `npm run bench -- --cpu-prof`): self time by function and by
 * module (a package under node_modules, a file under src/, or node internals), idle excluded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function moduleOf(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1).replace(/^file:\/\//, '');
  return path.basename(url);
}

export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${name} ${moduleOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = name === '(garbage collector)' ? '(garbage collector)' : moduleOf(node.callFrame.url);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const lines = [
    `${path.basename(file)}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle/program`,
  ];
  const table = (title: string, map: Map<string, number>) => {
    lines.push('', title);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      lines.push(
        `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
  };
  table('self time by module', mod);
  table('self time by function', fn);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith('cpu-profile.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx bench/cpu-profile.ts <file.cpuprofile> [top]\n');
    process.exitCode = 2;
  } else process.stdout.write(`${summariseProfile(file, Number(top ?? 25))}\n`);
}
