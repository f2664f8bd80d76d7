import { randomBytes } from 'node:crypto';
import got from 'got';
import { zipSync } from 'fflate';
import { aesEncrypt, IndependentKsefClient, SessionKeys, sha256Base64 } from './independent-client.js';

/** Building and sending batch packages as PROTOCOL.md §5 describes. */

export function zipOf(files: Record<string, Buffer>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([name, data]) => [name, new Uint8Array(data)]))));
}

/** A plain ustar archive (for compressionType TarGz, gzip it afterwards). */
export function tarOf(files: Record<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 100);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface PreparedBatch {
  keys: SessionKeys;
  archive: Buffer;
  parts: Buffer[];
  request: Record<string, unknown>;
}

/** Splits the archive into `partCount` plain slices and encrypts each with the session key. */
export async function prepareBatch(
  client: IndependentKsefClient,
  archive: Buffer,
  partCount: number,
  options: { offlineMode?: boolean; compressionType?: 'Zip' | 'TarGz'; encryptWith?: SessionKeys } = {},
): Promise<PreparedBatch> {
  const keys = { key: randomBytes(32), iv: randomBytes(16) };
  const size = Math.ceil(archive.length / partCount);
  const parts = Array.from({ length: partCount }, (_, i) => aesEncrypt(options.encryptWith ?? keys, archive.subarray(i * size, (i + 1) * size)));
  const request = {
    formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' },
    batchFile: {
      fileSize: archive.length,
      fileHash: sha256Base64(archive),
      ...(options.compressionType ? { compressionType: options.compressionType } : {}),
      fileParts: parts.map((p, i) => ({ ordinalNumber: i + 1, fileSize: p.length, fileHash: sha256Base64(p) })),
    },
    encryption: await client.encryptionFor(keys),
    offlineMode: options.offlineMode ?? false,
  };
  return { keys, archive, parts, request };
}

export interface PartUploadRequest {
  ordinalNumber: number;
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** §5.5: the given method, URL and headers exactly, raw bytes, no Authorization. */
export async function uploadPart(upload: PartUploadRequest, body: Buffer, headers = upload.headers) {
  return got(upload.url, { method: upload.method as 'PUT', headers, body, throwHttpErrors: false, retry: 0, timeout: 30_000 });
}
