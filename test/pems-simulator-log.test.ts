import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generatedPfaId } from '../src/domain/generator.js';
import { PemsClient } from '../src/pems/client.js';
import { startPemsSimulator, type PemsSimulator, type SimWrite } from '../src/pems/simulator.js';

/** The simulator's append-only write log and per-kind fault counts (what the soak test checks against). */

let sim: PemsSimulator;
let client: PemsClient;
const ORG = 'HOLNG';
const pfa = (i: number): string => generatedPfaId(ORG, i);

beforeAll(async () => {
  sim = await startPemsSimulator({ orgs: 1, records: 50 });
  client = new PemsClient({ baseUrl: sim.url, tenant: 'T', timeoutMs: 5_000 });
});
afterAll(async () => {
  await sim.close();
});

describe('PEMS simulator write log', () => {
  it('logs every applied write in order, PEMS-side edits and UPDATEs, with recordids before and after', async () => {
    const put = await fetch(`${sim.url}/_sim/records/${ORG}/${pfa(0)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'from another PEMS user' }),
    });
    expect(put.status).toBe(200);
    const r = await client.updateRecord(ORG, pfa(0), { manufacturer: 'Soak' }, '2');
    // A stale write is refused and not logged.
    await expect(client.updateRecord(ORG, pfa(0), { manufacturer: 'late' }, '2')).rejects.toThrow();

    const log = sim.writes();
    expect(log.map((w) => [w.seq, w.via, w.pfaId, w.recordidBefore, w.recordidAfter, w.changes])).toEqual([
      [1, 'control', pfa(0), '1', '2', { model: 'from another PEMS user' }],
      [2, 'update', pfa(0), '2', r.recordid, { manufacturer: 'Soak' }],
    ]);
    expect(log.every((w) => !w.responseLost)).toBe(true);

    const since = (await (await fetch(`${sim.url}/_sim/writes?since=1`)).json()) as SimWrite[];
    expect(since.map((w) => w.seq)).toEqual([2]);
    const bad = await fetch(`${sim.url}/_sim/writes?since=-1`);
    expect(bad.status).toBe(400);
    // Copies: changing what was returned does not change the log.
    (log[0] as SimWrite).changes.model = 'tampered';
    expect(sim.writes()[0]?.changes.model).toBe('from another PEMS user');
  });

  it('marks an UPDATE applied but answered with an error as a lost response, and counts faults by kind', async () => {
    const before = sim.stats().requests;
    sim.setFaults({ failNext: 1, status: 503, failAfterApply: true });
    await expect(client.updateRecord(ORG, pfa(1), { contract: 'C-1' }, '1')).rejects.toThrow();
    sim.setFaults({ failNext: 1, status: 429, retryAfterSeconds: 0 });
    await expect(client.getRecord(ORG, pfa(1))).rejects.toThrow();
    sim.setFaults({ latencyMs: 20 });
    await client.getRecord(ORG, pfa(1));
    sim.resetFaults();

    const last = sim.writes().at(-1);
    expect(last).toMatchObject({
      via: 'update',
      pfaId: pfa(1),
      changes: { contract: 'C-1' },
      responseLost: true,
    });
    const after = sim.stats().requests;
    expect(after.lostResponses - before.lostResponses).toBe(1);
    expect((after.injectedByStatus['503'] ?? 0) - (before.injectedByStatus['503'] ?? 0)).toBe(1);
    expect((after.injectedByStatus['429'] ?? 0) - (before.injectedByStatus['429'] ?? 0)).toBe(1);
    expect(after.delayed - before.delayed).toBe(1);
  });
});
