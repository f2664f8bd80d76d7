/**
 * Structure layer: checks an element tree against the FA(3) content model (schema.ts): element order,
 * cardinalities, mandatory elements, attributes, simple-type facets.
 *
 * Matching is greedy with one element of look-ahead, which is exact for XSD content models because the
 * schema obeys the Unique Particle Attribution constraint (a particle is always chosen by the next element).
 * Within one parent, matching stops at the first unexpected element (what follows would be noise); a missing
 * mandatory element is reported and matching goes on, so independent problems show up together.
 */
import { ValidationIssue } from './issues.js';
import { ElementDecl, FA3_NAMESPACE, GroupDecl, Particle, isComplex } from './schema.js';
import { XmlElement, elementPath } from './xml.js';

const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';

/** A particle with what matching asks of it precomputed (a 10 000-line invoice visits 250 000 particles). */
interface Node {
  readonly particle: Particle;
  readonly min: number;
  readonly max: number;
  /** Element names that can start it. */
  readonly first: ReadonlySet<string>;
  /** Whether it may match nothing. */
  readonly nullable: boolean;
  readonly children: readonly Node[];
}

const compiled = new WeakMap<Particle, Node>();

function compile(p: Particle): Node {
  let node = compiled.get(p);
  if (node) return node;
  const children = p.kind === 'element' ? [] : p.particles.map(compile);
  const first = new Set<string>();
  if (p.kind === 'element') first.add(p.name);
  else if (p.kind === 'choice') children.forEach((c) => c.first.forEach((n) => first.add(n)));
  else {
    for (const c of children) {
      c.first.forEach((n) => first.add(n));
      if (!c.nullable) break;
    }
  }
  const nullable =
    p.min === 0 ||
    (p.kind === 'sequence' && children.every((c) => c.nullable)) ||
    (p.kind === 'choice' && children.some((c) => c.nullable));
  node = { particle: p, min: p.min, max: p.max, first, nullable, children };
  compiled.set(p, node);
  return node;
}

/** Human description of what a particle expects: `P_15`, `one of NIP, KodUE, …`. */
function describe(n: Node): string {
  const names = [...n.first];
  return names.length === 1 ? names[0] : `one of ${names.join(', ')}`;
}

class ContentMatcher {
  private pos = 0;
  private stopped = false;
  /** The sequences being matched and the item reached in each: to tell "missing" from "unexpected". */
  private readonly sequences: Node[] = [];
  private readonly indexes: number[] = [];
  readonly matched: [XmlElement, ElementDecl][] = [];

  constructor(
    private readonly parent: XmlElement,
    private readonly issues: ValidationIssue[],
  ) {}

  run(content: GroupDecl): void {
    this.particle(compile(content));
    const extra = this.parent.children[this.pos];
    if (!this.stopped && extra) this.unexpected(extra, null);
  }

  /** Name of the next child when it is an FA(3) element; null for other namespaces; undefined at the end. */
  private nextName(): string | null | undefined {
    const el = this.parent.children[this.pos];
    return el && (el.ns === FA3_NAMESPACE ? el.local : null);
  }

  /** Matches `n` as often as its occurrence bounds and the input allow. */
  private particle(n: Node): void {
    let count = 0;
    while (count < n.max && !this.stopped) {
      const name = this.nextName();
      if (!name || !n.first.has(name)) break;
      const before = this.pos;
      this.once(n, name);
      count++;
      if (this.pos === before) break;
    }
    if (count === 0 && !n.nullable && !this.stopped) this.missing(n);
  }

  private once(n: Node, name: string): void {
    const p = n.particle;
    if (p.kind === 'element') {
      this.matched.push([this.parent.children[this.pos], p]);
      this.pos++;
    } else if (p.kind === 'choice') {
      this.particle(n.children.find((c) => c.first.has(name))!);
    } else {
      const depth = this.sequences.length;
      this.sequences.push(n);
      this.indexes.push(0);
      for (let i = 0; i < n.children.length && !this.stopped; i++) {
        this.indexes[depth] = i;
        this.particle(n.children[i]);
      }
      this.sequences.pop();
      this.indexes.pop();
    }
  }

  /** Names that may legally come next at the current point, had the current particle been satisfied. */
  private follow(): Set<string> {
    const names = new Set<string>();
    for (let d = this.sequences.length - 1; d >= 0; d--) {
      const items = this.sequences[d].children;
      const i = this.indexes[d];
      // The particle itself may repeat.
      if (items[i].max > 1) items[i].first.forEach((x) => names.add(x));
      let j = i + 1;
      for (; j < items.length; j++) {
        items[j].first.forEach((x) => names.add(x));
        if (!items[j].nullable) return names;
      }
    }
    return names;
  }

  private missing(n: Node): void {
    const next = this.parent.children[this.pos];
    const nextName = this.nextName();
    if (next && !(nextName && this.follow().has(nextName))) {
      this.unexpected(next, n);
      return;
    }
    const parentPath = elementPath(this.parent);
    this.issues.push({
      path: n.first.size === 1 ? `${parentPath}/${[...n.first][0]}` : parentPath,
      message:
        `Missing mandatory element ${describe(n)} in ${this.parent.local}` +
        (next ? ` (expected before ${next.local})` : ''),
      code: 'SCHEMA_MISSING',
      line: next?.line ?? this.parent.line,
    });
  }

  private unexpected(el: XmlElement, expected: Node | null): void {
    this.stopped = true;
    const message =
      el.ns !== FA3_NAMESPACE
        ? `Element ${el.qname} is not in the FA(3) namespace ${FA3_NAMESPACE}` +
          (el.ns ? ` (it is in ${el.ns})` : ' (it has no namespace)')
        : `Element ${el.local} is not expected here` + (expected ? `; expected ${describe(expected)}` : '');
    this.issues.push({ path: elementPath(el), message, code: 'SCHEMA_UNEXPECTED', line: el.line });
  }
}

const hasText = (el: XmlElement) => /[^ \t\n]/.test(el.text);

function checkAttributes(el: XmlElement, decl: ElementDecl, issues: ValidationIssue[]): void {
  const declared = isComplex(decl.type) ? decl.type.attributes : [];
  if (el.attributes.length === 0 && declared.length === 0) return;
  const report = (name: string, message: string) =>
    issues.push({ path: `${elementPath(el)}/@${name}`, message, code: 'SCHEMA_ATTRIBUTE', line: el.line });
  for (const a of el.attributes) {
    if (a.ns === XSI_NAMESPACE && (a.local === 'schemaLocation' || a.local === 'noNamespaceSchemaLocation')) continue;
    const attrDecl = a.ns === null ? declared.find((d) => d.name === a.local) : undefined;
    if (!attrDecl) {
      const what = a.ns === XSI_NAMESPACE ? `xsi:${a.local}` : `attribute ${a.qname}`;
      report(a.local, `${what} is not allowed on ${decl.name}`);
    } else if (attrDecl.fixed !== undefined && a.value !== attrDecl.fixed) {
      report(a.local, `attribute ${a.local} must be '${attrDecl.fixed}', not '${a.value}'`);
    } else {
      const reason = attrDecl.type.check(a.value);
      if (reason) report(a.local, `attribute ${a.local}: ${reason}`);
    }
  }
  for (const d of declared) {
    if (d.required && !el.attributes.some((a) => a.ns === null && a.local === d.name)) {
      report(d.name, `Missing mandatory attribute ${d.name} on ${decl.name}`);
    }
  }
}

/** Validates an element (attributes, content, value) against its declaration, then its matched descendants. */
export function checkElement(root: XmlElement, rootDecl: ElementDecl): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const queue: [XmlElement, ElementDecl][] = [[root, rootDecl]];
  for (let i = 0; i < queue.length; i++) {
    const [el, decl] = queue[i];
    const type = decl.type;
    checkAttributes(el, decl, issues);

    const simple = isComplex(type) ? type.simpleContent : type;
    if (simple) {
      if (el.children.length > 0) {
        issues.push({
          path: elementPath(el),
          message: `${decl.name} holds a value and must not contain elements`,
          code: 'SCHEMA_CONTENT',
          line: el.line,
        });
        continue;
      }
      const reason = simple.check(el.text);
      if (reason) {
        issues.push({ path: elementPath(el), message: `${decl.name}: ${reason}`, code: decl.rule ?? 'SCHEMA_VALUE', line: el.line });
      }
      continue;
    }

    if (hasText(el)) {
      issues.push({
        path: elementPath(el),
        message: `${decl.name} must contain only elements, not text`,
        code: 'SCHEMA_CONTENT',
        line: el.line,
      });
    }
    const content = isComplex(type) ? type.content : undefined;
    if (!content) continue;
    const matcher = new ContentMatcher(el, issues);
    matcher.run(content);
    for (const m of matcher.matched) queue.push(m);
  }
  return issues;
}
