/**
 * The walk-through: list + page, edit in a session, a conflict between two sessions and its
 * resolution, commit, and the kpiChanged events the commits cause. `npm start` in this folder
 * (BASE_URL, TOKEN, ORG); CI runs it against a test server (test/node-client-example.test.ts).
 */
import {
  CommitDraftsDocument,
  EditRecordDocument,
  onKpiChanged,
  RecordsPageDocument,
  request,
  ResolveConflictDocument,
  type Connection,
} from './client.js';

export interface DemoReport {
  totalCount: number;
  secondPage: number;
  edited: { id: string; viewKey: string; monthlyRate: number | null | undefined };
  conflicted: number;
  resolved: string[];
  committed: number;
  kpiEvents: number;
}

export async function runDemo(
  base: Omit<Connection, 'session'>,
  organizationId: string,
  log: (line: string) => void = console.log,
): Promise<DemoReport> {
  const mine: Connection = { ...base, session: `demo-${Date.now()}` };
  const theirs: Connection = { ...base, session: `${mine.session}-b` };
  const kpiEvents: number[] = [];
  const live = onKpiChanged(base, organizationId, (e) => {
    kpiEvents.push(e.changeSeq);
    log(`kpiChanged #${e.changeSeq} at ${e.refreshedAt}: refetch the KPIs`);
  });
  await live.ready;
  try {
    const page1 = await request(base, RecordsPageDocument, { organizationId, first: 5 });
    const page2 = await request(base, RecordsPageDocument, {
      organizationId,
      first: 5,
      after: page1.pfaRecords.pageInfo.endCursor ?? null,
    });
    log(`${page1.pfaRecords.totalCount} records; page 2 has ${page2.pfaRecords.nodes.length}`);
    const record = page1.pfaRecords.nodes[0]!;

    // Two sessions edit the same field; the other one commits first: ours conflicts.
    const edit = await request(mine, EditRecordDocument, {
      input: { id: record.id, expectedVersion: 0, changes: { monthlyRate: 1234.5 }, reason: 'demo' },
    });
    log(
      `edited ${edit.updatePfaRecord.record.pfaId} in ${mine.session} (view ${edit.updatePfaRecord.record.viewKey})`,
    );
    await request(theirs, EditRecordDocument, {
      input: { id: record.id, expectedVersion: 0, changes: { monthlyRate: 999.25 }, reason: 'demo (other)' },
    });
    const theirsCommit = await request(theirs, CommitDraftsDocument, { organizationId });
    const commit = await request(mine, CommitDraftsDocument, { organizationId });
    const resolved: string[] = [];
    for (const draft of commit.commitDrafts.conflicted) {
      log(`conflict on ${draft.conflicts.map((c) => c.field).join(', ')}: keeping mine`);
      const r = await request(mine, ResolveConflictDocument, { id: draft.id, resolution: 'KEEP_MINE' });
      resolved.push(r.resolveConflict.draft?.syncState ?? 'none');
    }
    const again = commit.commitDrafts.conflicted.length
      ? await request(mine, CommitDraftsDocument, { organizationId })
      : commit;
    log(`committed ${again.commitDrafts.committed.length}`);
    // Events arrive shortly after the commits returned.
    for (let i = 0; i < 50 && kpiEvents.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    return {
      totalCount: page1.pfaRecords.totalCount,
      secondPage: page2.pfaRecords.nodes.length,
      edited: {
        id: edit.updatePfaRecord.record.id,
        viewKey: edit.updatePfaRecord.record.viewKey,
        monthlyRate: edit.updatePfaRecord.record.monthlyRate,
      },
      conflicted: commit.commitDrafts.conflicted.length,
      resolved,
      committed:
        theirsCommit.commitDrafts.committed.length +
        commit.commitDrafts.committed.length +
        (again === commit ? 0 : again.commitDrafts.committed.length),
      kpiEvents: kpiEvents.length,
    };
  } finally {
    await live.stop();
  }
}
