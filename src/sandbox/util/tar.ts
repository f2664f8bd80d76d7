import { extract, pack } from 'tar-stream';

/** tar archives (ustar, GNU and pax) for `compressionType: "TarGz"` packages, through tar-stream. */

export interface ArchiveEntry {
  name: string;
  data: Uint8Array;
}

/** Regular files of a tar archive, in order. Rejects when the archive is malformed. */
export async function untar(archive: Uint8Array): Promise<ArchiveEntry[]> {
  // Pre-POSIX (v7) archives carry no ustar or GNU magic; their headers are read all the same. (tar-stream's
  // own typings leave the option out.)
  const reader = extract({ allowUnknownFormat: true } as Parameters<typeof extract>[0]);
  reader.end(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength));
  const entries: ArchiveEntry[] = [];
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') entries.push({ name: entry.header.name, data: Buffer.concat(chunks) });
  }
  return entries;
}

export async function tar(entries: ArchiveEntry[], mtime: Date): Promise<Buffer> {
  const writer = pack();
  for (const entry of entries) writer.entry({ name: entry.name, size: entry.data.length, mode: 0o644, mtime }, Buffer.from(entry.data));
  writer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of writer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
