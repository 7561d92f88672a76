/** What the API asks of the job system; BullMQ-backed, or in-process when there is no Redis. */
export type JobName = 'read-sync' | 'write-sync' | 'refresh-views' | 'maintenance' | 'sync-sweep';

export interface EnqueuedJob {
  jobId: string;
  state: string;
}

export type QueueCounts = Partial<Record<JobName, Record<string, number>>>;

/** A job that gave up: its retries exhausted, or a failure retrying cannot fix. */
export interface FailedJob {
  queue: JobName;
  jobId: string;
  /** The organization of a sync job; null for jobs over the whole database. */
  organizationId: string | null;
  /** Attempts made, the first included. */
  attempts: number;
  failedAt: Date;
  /** The last attempt's error. */
  error: string;
}

/** Most failed jobs any listing returns. */
export const MAX_FAILED_JOBS = 50;

export interface JobGateway {
  readonly mode: 'bullmq' | 'in-process' | 'disabled';
  enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob>;
  /** Jobs per queue and state, for admins and metrics. */
  counts(): Promise<QueueCounts>;
  /** Jobs that gave up, newest first (at most `limit`, ≤ MAX_FAILED_JOBS), for admins. */
  failedJobs(limit?: number): Promise<FailedJob[]>;
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
  async failedJobs(): Promise<FailedJob[]> {
    return [];
  }
  async close(): Promise<void> {}
}
