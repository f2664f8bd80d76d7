/** Just enough POSIX tar (ustar, plus GNU/pax long names) for `compressionType: "TarGz"` packages. */

const BLOCK = 512;

export interface ArchiveEntry {
  name: string;
  data: Uint8Array;
}

const field = (header: Uint8Array, start: number, length: number) => {
  const raw = Buffer.from(header.subarray(start, start + length)).toString('utf8');
  const nul = raw.indexOf('\0');
  return nul === -1 ? raw : raw.slice(0, nul);
};

const octal = (header: Uint8Array, start: number, length: number) => {
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error('tar: bad numeric field');
  return text ? parseInt(text, 8) : 0;
};

function checksumOf(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

/** Regular files of a tar archive, in order. Throws when the archive is malformed. */
export function untar(archive: Uint8Array): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    if (octal(header, 148, 8) !== checksumOf(header)) throw new Error('tar: header checksum mismatch');
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new Error('tar: truncated entry');
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      if (path) longName = path[1];
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type === '0' || type === '7') entries.push({ name, data });
  }
  if (offset !== archive.length) throw new Error('tar: trailing garbage');
  return entries;
}

function writeString(header: Buffer, value: string, start: number, length: number) {
  header.write(value, start, length, 'utf8');
}

const octalField = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;

export function tar(entries: ArchiveEntry[], mtime: Date): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar: name too long: ${entry.name}`);
    const header = Buffer.alloc(BLOCK);
    writeString(header, entry.name, 0, 100);
    writeString(header, octalField(0o644, 8), 100, 8);
    writeString(header, octalField(0, 8), 108, 8);
    writeString(header, octalField(0, 8), 116, 8);
    writeString(header, octalField(entry.data.length, 12), 124, 12);
    writeString(header, octalField(Math.floor(mtime.getTime() / 1000), 12), 136, 12);
    header[156] = 0x30;
    writeString(header, 'ustar\0', 257, 6);
    writeString(header, '00', 263, 2);
    writeString(header, `${checksumOf(header).toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(header, Buffer.from(entry.data));
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}
