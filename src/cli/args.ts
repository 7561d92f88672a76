import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in a command's flags; the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Strict flag parsing for the operator commands: unknown flags and positionals are refused, and
 * the message is node:util's first sentence ("Unknown option '--recods'"), without its hint about
 * `--`, which misleads behind `npm run`.
 */
export function parseFlags(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(message.split('. To specify')[0] ?? message);
  }
}

/**
 * Runs a command's flag parser: a usage mistake prints the message and the usage text and exits
 * with 2; `--help` prints the usage and returns null.
 */
export function parseOrExit<T>(command: string, usage: string, parse: () => T | 'help'): T | null {
  let parsed: T | 'help';
  try {
    parsed = parse();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${command}: ${e.message}\n\n${usage}`);
    process.exit(2);
  }
  if (parsed === 'help') {
    console.log(usage);
    return null;
  }
  return parsed;
}
