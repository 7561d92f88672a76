import { CompiledQuery, createQueryId, PostgresQueryCompiler, sql, type RawBuilder } from 'kysely';

const compiler = new PostgresQueryCompiler();

/**
 * A constant SQL fragment compiled to its text once, as one raw node. Kysely compiles a statement
 * by visiting every node of it on every execution, and a projected page's JSON columns (cost
 * expressions and their exactness checks) and the merged relation's column lists made up most of
 * a statement's nodes: building and compiling one projected grid page of 20 fields took 200 µs of
 * CPU (a tenth of the server's work per request), 72 µs with the constant parts compiled once
 * (2026-12-06). Only for fragments without parameters (a parameter's place would be lost): throws
 * otherwise.
 */
export function precompiled<T = unknown>(fragment: RawBuilder<unknown>): RawBuilder<T> {
  const { sql: text, parameters } = compiler.compileQuery(fragment.toOperationNode(), createQueryId());
  if (parameters.length > 0) throw new Error(`precompiled: the fragment has parameters: ${text}`);
  return sql.raw<T>(text);
}

const SLOT = '\u0000pfa-slot:';

/** A statement's text and parameter list, with the places of the arguments marked. */
interface Shape {
  text: string;
  /** Per parameter: the argument it takes, or undefined for a constant of the statement. */
  slots: (string | undefined)[];
  constants: unknown[];
}

/**
 * A whole statement compiled once per shape, then executed with the arguments put in their
 * parameter places. `build` must use each argument only as a parameter (`${args.org}`), never in
 * the text or in a computed value, and may depend on whether an argument is null (the shape: a
 * KPI read with a session differs from one without) but not on its value. Each argument is
 * compiled as a marker string; a marker found anywhere but as a whole parameter throws, so a
 * builder that breaks the rule fails on its first call instead of answering with another
 * caller's values. The KPI read compiled its ~6 KB of SQL on every request (8% of the server's
 * CPU for kpiSummary, 2026-12-06).
 */
export function precompiledStatement<A extends Record<string, string | null>, R>(
  build: (args: A) => RawBuilder<R>,
): (args: A) => CompiledQuery<R> {
  const shapes = new Map<string, Shape>();
  return (args) => {
    const names = Object.keys(args).sort();
    const shapeKey = names.map((n) => (args[n] === null ? `${n}=null` : n)).join(',');
    let shape = shapes.get(shapeKey);
    if (!shape) {
      const marked = Object.fromEntries(names.map((n) => [n, args[n] === null ? null : `${SLOT}${n}`])) as A;
      const { sql: text, parameters } = compiler.compileQuery(
        build(marked).toOperationNode(),
        createQueryId(),
      );
      const slots = parameters.map((p) =>
        typeof p === 'string' && p.startsWith(SLOT) ? p.slice(SLOT.length) : undefined,
      );
      const misplaced = text.includes(SLOT)
        ? text
        : parameters.find(
            (p, i) => slots[i] === undefined && JSON.stringify(p ?? null).includes('pfa-slot:'),
          );
      if (misplaced !== undefined || slots.some((s) => s !== undefined && !names.includes(s)))
        throw new Error(`precompiledStatement: an argument is used other than as a whole parameter: ${text}`);
      shape = { text, slots, constants: parameters.slice() };
      shapes.set(shapeKey, shape);
    }
    const { text, slots, constants } = shape;
    const parameters = constants.map((c, i) => {
      const slot = slots[i];
      return slot === undefined ? c : args[slot];
    });
    return CompiledQuery.raw(text, parameters) as CompiledQuery<R>;
  };
}
