/**
 * Reads DER (the counterpart of der.ts), strictly enough for certificate requests from strangers: definite
 * minimal lengths only, every byte accounted for, single-byte tags. Anything else is a DerError.
 */

export class DerError extends Error {}

export interface DerNode {
  tag: number;
  /** The value bytes. */
  content: Buffer;
  /** The whole encoding, tag and length included (what a signature covers). */
  encoded: Buffer;
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** `[n]` of a constructed context-specific field (EXPLICIT tagging, or IMPLICIT over a SET/SEQUENCE). */
export const contextTag = (n: number) => 0xa0 + n;

function readAt(buf: Buffer, offset: number): DerNode {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('DER length too large');
    if (offset + 2 + count > buf.length) throw new DerError('truncated DER');
    if (buf[offset + 2] === 0) throw new DerError('non-minimal DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i];
    if (length < 0x80) throw new DerError('non-minimal DER length');
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError('truncated DER');
  return { tag, content: buf.subarray(offset + header, end), encoded: buf.subarray(offset, end) };
}

/** The single element `buf` holds; trailing bytes are an error. */
export function readDer(buf: Buffer): DerNode {
  const node = readAt(buf, 0);
  if (node.encoded.length !== buf.length) throw new DerError('trailing bytes after DER');
  return node;
}

/** The elements inside a constructed node, optionally requiring the node's tag first. */
export function children(node: DerNode | undefined, tag?: number): DerNode[] {
  if (!node) throw new DerError('missing element');
  if (tag !== undefined) expectTag(node, tag);
  if (!(node.tag & 0x20)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const items: DerNode[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const item = readAt(node.content, offset);
    items.push(item);
    offset += item.encoded.length;
  }
  return items;
}

export function expectTag(node: DerNode | undefined, tag: number): DerNode {
  if (!node) throw new DerError(`missing element with tag 0x${tag.toString(16)}`);
  if (node.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function readOid(node: DerNode | undefined): string {
  const { content } = expectTag(node, TAG.oid);
  if (content.length === 0 || content[content.length - 1] & 0x80) throw new DerError('malformed OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    if (value === 0 && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = Math.min(Math.floor(arcs[0] / 40), 2);
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** A small non-negative INTEGER (versions, salt lengths). */
export function readSmallInteger(node: DerNode | undefined): number {
  const { content } = expectTag(node, TAG.integer);
  if (content.length === 0 || content.length > 4 || content[0] & 0x80) throw new DerError('INTEGER out of range');
  if (content.length > 1 && content[0] === 0 && !(content[1] & 0x80)) throw new DerError('non-minimal INTEGER');
  return content.reduce((n, b) => n * 256 + b, 0);
}

/** The bytes of a BIT STRING without unused bits (keys and signatures). */
export function readBitStringBytes(node: DerNode | undefined): Buffer {
  const { content } = expectTag(node, TAG.bitString);
  if (content.length === 0 || content[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return content.subarray(1);
}

/** The text of the string types X.500 names use (UTF8String, PrintableString, IA5String, BMPString). */
export function readString(node: DerNode): string {
  switch (node.tag) {
    case TAG.utf8String: {
      const text = node.content.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(node.content)) throw new DerError('invalid UTF-8 in UTF8String');
      return text;
    }
    case TAG.printableString:
      if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(node.content.toString('latin1'))) throw new DerError('invalid PrintableString');
      return node.content.toString('latin1');
    case TAG.ia5String:
      if (node.content.some((b) => b > 0x7f)) throw new DerError('invalid IA5String');
      return node.content.toString('latin1');
    case TAG.bmpString: {
      if (node.content.length % 2) throw new DerError('invalid BMPString');
      const swapped = Buffer.from(node.content).swap16();
      return swapped.toString('utf16le');
    }
    default:
      throw new DerError(`unsupported string type 0x${node.tag.toString(16)}`);
  }
}
