import { jobEvents } from '../events/job-events.js';
import { jobDuration, jobFailures } from '../metrics.js';
import { PemsError } from '../pems/client.js';
import type { JobName } from './gateway.js';
import {
  PermanentJobError,
  type JobHandlers,
  type JobPayloads,
  type JobResults,
  type JobRun,
} from './registry.js';

/**
 * Failures a retry cannot fix: PermanentJobError, and PEMS refusing a request for good (4xx other
 * than 408/429: an unknown organization, bad credentials).
 */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof PermanentJobError || (error instanceof PemsError && !error.retryable);
}

/** Runs one handler with the job metrics (duration by outcome, failures) and a log line on failure. */
export async function executeJob<N extends JobName>(
  handlers: JobHandlers,
  name: N,
  payload: JobPayloads[N],
  run: JobRun,
): Promise<JobResults[N]> {
  const end = jobDuration.startTimer({ job: name });
  // Live updates (jobProgress, kpiChanged after a sync or refresh): src/events/job-events.ts.
  jobEvents.started(run.jobId, name, payload);
  const report = run.progress;
  const observed: JobRun = {
    ...run,
    progress: (p) => {
      report?.(p);
      jobEvents.progress(run.jobId, name, payload, p.done, p.total ?? null);
    },
  };
  try {
    const result = await (handlers[name] as (p: JobPayloads[N], r: JobRun) => Promise<JobResults[N]>)(
      payload,
      observed,
    );
    end({ outcome: 'ok' });
    jobEvents.finished(run.jobId, name, payload, result);
    return result;
  } catch (error) {
    end({ outcome: 'error' });
    jobFailures.inc({ job: name });
    jobEvents.failed(run.jobId, name, payload);
    run.log.warn({ job: name, jobId: run.jobId, attempt: run.attempt, err: error }, 'job failed');
    throw error;
  }
}
