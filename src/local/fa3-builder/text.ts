/** Text as FA(3) takes it: characters KSeF accepts (F1), whitespace collapsed as the schema's `xsd:token` does. */

/**
 * Why a character cannot go into the XML, or null: XML 1.0 excludes most C0 controls, lone surrogates and
 * U+FFFE/FFFF; KSeF also refuses the "discouraged" code points (FA3.md §6 F1).
 */
function refusedCharacter(cp: number): string | null {
  if (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) return 'a control character';
  if (cp >= 0xd800 && cp <= 0xdfff) return 'half of a surrogate pair';
  if ((cp >= 0x7f && cp <= 0x84) || (cp >= 0x86 && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) {
    return 'a code point KSeF refuses';
  }
  return null;
}

/** Why a string cannot be written into the invoice, or null. */
export function refusedText(value: string): string | null {
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const why = refusedCharacter(cp);
    if (why) return `contains U+${cp.toString(16).toUpperCase().padStart(4, '0')}, ${why}`;
  }
  return null;
}

/** Every string in a JSON value with its path (`lines[2].name`), for checks that apply to all text. */
export function* stringsOf(value: unknown, path = ''): Generator<[path: string, value: string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsOf(v, `${path}[${i}]`);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* stringsOf(v, path ? `${path}.${k}` : k);
  }
}

/** `xsd:token` whitespace: what KSeF and our parser read anyway, written that way. */
export const collapse = (value: string): string => value.replace(/[\t\n\r ]+/g, ' ').trim();
