/** Messages between the bench process and its server processes (bench/server.ts). */
import type { CapturedStatement } from './capture.js';

export interface MemoryStats {
  pid: number;
  memory: NodeJS.MemoryUsage;
}

export type ParentMessage = { type: 'capture'; id: number; on: boolean } | { type: 'stats'; id: number };
export type ChildMessage =
  | { type: 'ready'; url: string; pids: number[] }
  | { type: 'captured'; id: number; statements: CapturedStatement[] }
  | { type: 'stats'; id: number; stats: MemoryStats[] }
  | { type: 'failed'; message: string };

export const send = (message: ChildMessage): void => {
  process.send?.(message);
};
