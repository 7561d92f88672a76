/** What the API asks of the job system; BullMQ-backed, or in-process when there is no Redis. */
export type JobName = 'read-sync' | 'write-sync' | 'refresh-views' | 'maintenance';

export interface EnqueuedJob {
  jobId: string;
  state: string;
}

export type QueueCounts = Partial<Record<JobName, Record<string, number>>>;

export interface JobGateway {
  readonly mode: 'bullmq' | 'in-process' | 'disabled';
  enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob>;
  /** Jobs per queue and state, for admins and metrics. */
  counts(): Promise<QueueCounts>;
  /** Ask for a KPI refresh soon; a burst of asks causes one refresh. */
  requestRefresh(reason: string): void;
  close(): Promise<void>;
}

/** A gateway that refuses jobs (sync unavailable: no PEMS configured and no queue). */
export class DisabledJobGateway implements JobGateway {
  readonly mode = 'disabled' as const;
  async enqueue(name: JobName): Promise<EnqueuedJob> {
    throw new Error(`job ${name} unavailable: no job runner configured`);
  }
  requestRefresh(): void {}
  async counts(): Promise<QueueCounts> {
    return {};
  }
  async close(): Promise<void> {}
}
