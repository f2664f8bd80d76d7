/**
 * Minimal HTML building: every string is escaped unless it is wrapped as `Html`, so data from the
 * invoice can never inject markup. Blocks return '' when they have nothing to show, which is how
 * sections disappear when empty (as in the official visualisation).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const html = (value: string): Html => new Html(value);

export type Content = string | Html | undefined;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: Content): string {
  if (value === undefined) return '';
  if (value instanceof Html) return value.value;
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const isEmpty = (v: Content): boolean => v === undefined || (v instanceof Html ? v.value === '' : v === '');

/** `Label: value` line; nothing when the value is empty. */
export function labelValue(label: string, value: Content, cls = ''): string {
  if (isEmpty(value)) return '';
  return `<div class="lv${cls ? ` ${cls}` : ''}"><span class="l">${esc(label)}</span> <span class="v">${esc(value)}</span></div>`;
}

export function heading(level: 2 | 3 | 4, title: string): string {
  return `<h${level}>${esc(title)}</h${level}>`;
}

/** A titled section; omitted entirely when its body is empty. */
export function section(name: string, title: string | undefined, body: string): string {
  if (body.trim() === '') return '';
  return `<section class="sec sec-${name}" data-section="${esc(name)}">${title ? heading(2, title) : ''}${body}</section>`;
}

/** Two equal columns; a lone right-hand block moves to the left. */
export function twoColumns(left: string, right: string): string {
  if (left === '' && right === '') return '';
  if (left === '') return twoColumns(right, '');
  return `<div class="cols"><div class="col">${left}</div><div class="col">${right}</div></div>`;
}

export interface Column<R> {
  /** Row field the column shows; a column is dropped when no row fills it. */
  key: string;
  title: string;
  format?: (value: string, row: R) => Content;
  align?: 'right' | 'center';
  /** Long unbreakable values (hashes, KSeF numbers) may wrap anywhere. */
  breakAll?: boolean;
  /** Identifiers that must stay on one line (KSeF numbers), so copied text stays whole. */
  nowrap?: boolean;
}

type Row = Record<string, string | undefined>;

/** The columns some row fills, in definition order. */
export function filledColumns<R extends Row>(columns: Column<R>[], rows: R[]): Column<R>[] {
  return columns.filter((c) => rows.some((r) => r[c.key] !== undefined && r[c.key] !== ''));
}

/**
 * A table showing only the columns that some row fills (the official tables do the same).
 * `required` columns count as filled-or-not like the others but the table is dropped when only
 * they would remain (e.g. a lone "Lp." column).
 */
export function dataTable<R extends Row>(columns: Column<R>[], rows: R[], opts: { cls?: string; required?: string[] } = {}): string {
  const cols = filledColumns(columns, rows);
  if (rows.length === 0 || cols.every((c) => opts.required?.includes(c.key))) return '';
  const head = cols.map((c) => `<th${c.align ? ` class="${c.align}"` : ''}>${esc(c.title)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = cols.map((c) => {
        const raw = r[c.key];
        const shown = raw === undefined ? '' : c.format ? c.format(raw, r) : raw;
        const cls = [c.align, c.breakAll ? 'break' : undefined, c.nowrap ? 'nowrap' : undefined].filter(Boolean).join(' ');
        return `<td${cls ? ` class="${cls}"` : ''}>${esc(shown)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('');
  return `<table class="grid${opts.cls ? ` ${opts.cls}` : ''}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A two-column key/value table (used for bank accounts and the UPO header). */
export function keyValueTable(rows: [string, Content][], cls = ''): string {
  const filled = rows.filter(([, v]) => !isEmpty(v));
  if (filled.length === 0) return '';
  return `<table class="kv${cls ? ` ${cls}` : ''}"><tbody>${filled
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('')}</tbody></table>`;
}
