/** Terminal progress: one timestamped line per step, elapsed since the run started. */
const started = performance.now();

function stamp(): string {
  const s = Math.floor((performance.now() - started) / 1000);
  return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
}

export function say(line: string): void {
  process.stdout.write(`${stamp()} ${line}\n`);
}

/** Seconds since the run started. */
export function elapsedSeconds(): number {
  return (performance.now() - started) / 1000;
}
