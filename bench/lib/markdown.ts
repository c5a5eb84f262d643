/**
 * A Markdown table of arbitrary columns, for benches whose rows are not a single
 * ns/op measurement (those use `printTable` in table.ts).
 */

/** A right-aligned column unless `align` says otherwise. */
export interface Column {
  readonly title: string;
  readonly align?: 'left' | 'right' | 'center';
}

/**
 * Prints a `###` heading and a Markdown table; cells are printed as given.
 *
 * @example
 * printRows('Cold path', [{ title: 'case', align: 'left' }, { title: 'p99 ms' }], [['5 ms provider', '6.10']]);
 */
export function printRows(title: string, columns: readonly Column[], rows: readonly (readonly string[])[]): void {
  const rule = columns.map(({ align = 'right' }) => (align === 'left' ? '---' : align === 'center' ? ':---:' : '---:'));
  console.log(`\n### ${title}\n`);
  console.log(`| ${columns.map((column) => column.title).join(' | ')} |`);
  console.log(`|${rule.join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

/** A target row: what was aimed at, what was measured, and whether it was met. */
export type Target = readonly [target: string, measured: string, met: boolean];

/** Prints the targets of a bench as a table with a yes / NO column. */
export function printTargets(targets: readonly Target[]): void {
  printRows(
    'Targets',
    [{ title: 'target', align: 'left' }, { title: 'measured' }, { title: 'met', align: 'center' }],
    targets.map(([target, measured, met]) => [target, measured, met ? 'yes' : 'NO']),
  );
}

/** Integers with thousands separators. */
export const count = (value: number): string => Math.round(value).toLocaleString('en-US');
