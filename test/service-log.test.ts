import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The service's log is buffered (src/util/service-log.ts): no line may be lost when the process
 * ends the ways it ends — process.exit (shutdown, the process guard) and an uncaught error.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(HERE, 'fixtures', 'service-log-child.ts');

function run(how: 'exit' | 'throw'): { status: number | null; lines: Record<string, unknown>[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, how], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, lines };
}

describe('the service log is buffered, and complete at exit', () => {
  it.each([['exit'], ['throw']] as const)(
    'every line is written, in order, when the process ends by %s',
    (how) => {
      for (let round = 0; round < 3; round++) {
        const { status, lines } = run(how);
        const requests = lines.filter((l) => l.msg === 'request').map((l) => l.i);
        expect(requests).toEqual(Array.from({ length: 2000 }, (_, i) => i));
        if (how === 'exit') expect(status).toBe(3);
        else {
          expect(status).toBe(1);
          expect(lines.at(-1)).toMatchObject({ level: 60, kind: 'uncaughtException' });
        }
      }
    },
    120_000,
  );
});
