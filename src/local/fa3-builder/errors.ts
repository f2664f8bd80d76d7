import type { ValidationIssue } from '../fa3/index.js';

/** A field of the draft and what is wrong with it; `path` is relative to the draft: `lines[2].unitNetPrice`. */
export interface DraftIssue {
  path: string;
  message: string;
}

/** The draft cannot become a valid invoice: the caller's input (a 400 naming the fields). */
export class DraftError extends Error {
  constructor(readonly issues: DraftIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'DraftError';
  }
}

/**
 * The XML the builder wrote fails our own validator. Every input that could cause that is refused as a
 * DraftError first, so this is a defect of the builder, never the caller's fault.
 */
export class BuilderDefect extends Error {
  constructor(readonly errors: ValidationIssue[]) {
    super(`the built FA(3) fails validation: ${errors.map((e) => `${e.path}: ${e.message} (${e.code ?? '?'})`).join('; ')}`);
    this.name = 'BuilderDefect';
  }
}

/** Collects every problem of a draft before refusing it, so one answer names them all. */
export class Issues {
  readonly list: DraftIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new DraftError(this.list);
  }
}
