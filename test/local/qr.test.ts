import { execFileSync } from 'node:child_process';
import { KeyObject, X509Certificate, constants, createHash, generateKeyPairSync, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import {
  CAPTION_CERTIFICATE,
  CAPTION_OFFLINE,
  invoiceHashBase64Url,
  kodIILink,
  kodILink,
  qrHosts,
  qrPng,
  qrSvg,
} from '../../src/local/qr/index.js';
import { GLYPH_HEIGHT, glyph } from '../../src/local/qr/font.js';
import { describeWithShared, readSample } from '../support/shared.js';

const KOD_I_FA3_VAT =
  'https://qr-test.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/qCezuL3iwedb58monMMu5EfIMsZSkhf03yKG0bMKoB4';
const KSEF_NUMBER = '5265877635-20260202-010000F1E2D3-DC';

function decodePng(png: Buffer) {
  const image = PNG.sync.read(png);
  return { image, qr: jsQR(new Uint8ClampedArray(image.data), image.width, image.height) };
}

/** Rasterises the SVG's module path (our own output format) and decodes it. */
function decodeSvg(svg: string) {
  const [, side] = /viewBox="0 0 (\d+) /.exec(svg)!.map(Number);
  const scale = 4;
  const size = side * scale;
  const pixels = new Uint8ClampedArray(size * size * 4).fill(255);
  for (const [, x, y, w] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let row = +y * scale; row < (+y + 1) * scale; row++) {
      for (let col = +x * scale; col < (+x + +w) * scale; col++) pixels.fill(0, (row * size + col) * 4, (row * size + col) * 4 + 3);
    }
  }
  return jsQR(pixels, size, size);
}

const isDark = (image: PNG, x: number, y: number) => image.data[(y * image.width + x) * 4] < 128;

describeWithShared('KOD I', () => {
  const xml = readSample('fa3-vat.xml');

  it('reproduces the worked example of FA3.md §4.1 exactly', () => {
    expect(kodILink({ environment: 'test', sellerNip: '5265877635', issueDate: '2026-02-02', xml })).toBe(KOD_I_FA3_VAT);
  });

  it('uses the host of each environment', () => {
    expect(qrHosts).toEqual({ test: 'qr-test.ksef.mf.gov.pl', demo: 'qr-demo.ksef.mf.gov.pl', prod: 'qr.ksef.mf.gov.pl' });
    expect(kodILink({ environment: 'prod', sellerNip: '5265877635', issueDate: '2026-02-02', xml })).toBe(
      KOD_I_FA3_VAT.replace('qr-test.', 'qr.'),
    );
    expect(kodILink({ environment: 'demo', sellerNip: '5265877635', issueDate: '2026-02-02', xml })).toBe(
      KOD_I_FA3_VAT.replace('qr-test.', 'qr-demo.'),
    );
  });

  it('hashes the exact bytes: Base64URL of SHA-256 without padding, the digest of invoiceHash', () => {
    const hash = invoiceHashBase64Url(xml);
    expect(hash).toHaveLength(43);
    expect(hash).toBe(createHash('sha256').update(xml).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    // CRLF conversion or pretty-printing changes the hash (FA3.md §7).
    expect(invoiceHashBase64Url(Buffer.from(xml.toString('utf8').replace(/\n/g, '\r\n')))).not.toBe(hash);
  });

  it('refuses a bad date, NIP or environment', () => {
    const ok = { environment: 'test' as const, sellerNip: '5265877635', issueDate: '2026-02-02', xml };
    expect(() => kodILink({ ...ok, issueDate: '02-02-2026' })).toThrow(/issueDate/);
    expect(() => kodILink({ ...ok, issueDate: '2026-02-30' })).toThrow(/issueDate/);
    expect(() => kodILink({ ...ok, sellerNip: 'PL5265877635' })).toThrow(/sellerNip/);
    expect(() => kodILink({ ...ok, environment: 'staging' as never })).toThrow(/environment/);
  });

  it('PNG decodes to exactly the link, at ECC M (version 6 for KOD I), with the KSeF number drawn under it', async () => {
    const png = await qrPng(KOD_I_FA3_VAT, KSEF_NUMBER);
    const { image, qr } = decodePng(png);
    expect(qr?.data).toBe(KOD_I_FA3_VAT);
    expect(qr?.version).toBe(6); // 41×41 modules: ECC M; L would give version 5, Q/H 7/8.
    // 41 modules + 2 × 4 quiet zone at 10 px: the code occupies the top 490 × 490 pixels.
    expect(image.width).toBe(490);
    expect(image.height).toBeGreaterThan(490);
    // The quiet zone (4 modules = 40 px) above the code is blank.
    let darkInQuietZone = 0;
    for (let y = 0; y < 40; y++) for (let x = 0; x < image.width; x++) darkInQuietZone += isDark(image, x, y) ? 1 : 0;
    expect(darkInQuietZone).toBe(0);
    // The caption area holds exactly the glyphs' pixels (font scale 2 for 35 characters).
    let dark = 0;
    for (let y = 490; y < image.height; y++) for (let x = 0; x < image.width; x++) dark += isDark(image, x, y) ? 1 : 0;
    const glyphPixels = [...KSEF_NUMBER].reduce((n, ch) => n + glyph(ch).join('').split('#').length - 1, 0);
    expect(dark).toBe(glyphPixels * 2 * 2);
    expect(image.height).toBe(490 + GLYPH_HEIGHT * 2 + 20);
  });

  it('PNG with the OFFLINE caption and a custom scale', async () => {
    const { image, qr } = decodePng(await qrPng(KOD_I_FA3_VAT, CAPTION_OFFLINE, { modulePixels: 4 }));
    expect(qr?.data).toBe(KOD_I_FA3_VAT);
    expect(image.width).toBe(49 * 4);
    await expect(qrPng(KOD_I_FA3_VAT, 'X', { modulePixels: 0 })).rejects.toThrow(RangeError);
  });

  it('SVG holds the same code and the caption as text', async () => {
    const svg = await qrSvg(KOD_I_FA3_VAT, KSEF_NUMBER);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 49 /);
    expect(decodeSvg(svg)?.data).toBe(KOD_I_FA3_VAT);
    expect(svg).toContain(`>${KSEF_NUMBER}</text>`);
    expect(await qrSvg(KOD_I_FA3_VAT, 'A&B <OFFLINE>')).toContain('>A&amp;B &lt;OFFLINE&gt;</text>');
    expect(await qrSvg(KOD_I_FA3_VAT, '')).not.toContain('<text');
  });
});

describeWithShared('KOD II', () => {
  const xml = readSample('fa3-vat.xml');
  const serial = '01F20A5D352AE590';

  const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

  /**
   * A self-signed certificate (made by the openssl CLI: Node cannot issue certificates) standing in for a
   * KSeF Offline certificate, and its private key.
   */
  function certificate(privateKeyPem: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kod2-'));
    try {
      fs.writeFileSync(path.join(dir, 'key.pem'), privateKeyPem);
      execFileSync('openssl', [
        'req', '-x509', '-new', '-key', path.join(dir, 'key.pem'), '-subj', '/CN=Offline 5265877635',
        '-days', '2', '-set_serial', `0x${serial}`, '-out', path.join(dir, 'cert.pem'),
      ]);
      return { cert: new X509Certificate(fs.readFileSync(path.join(dir, 'cert.pem'))), privateKeyPem };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const rsaCertificate = () => certificate(pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));
  const ecCertificate = () => certificate(pem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey));

  const link = (privateKeyPem: string, certificateSerial = serial) =>
    kodIILink({
      environment: 'test',
      contextType: 'Nip',
      contextValue: '5265877635',
      sellerNip: '5265877635',
      certificateSerial,
      xml,
      privateKeyPem,
    });

  const split = (url: string) => {
    const m = /^https:\/\/(qr-test\.ksef\.mf\.gov\.pl\/certificate\/Nip\/5265877635\/5265877635\/01F20A5D352AE590\/([A-Za-z0-9_-]{43}))\/([A-Za-z0-9_-]+)$/.exec(url);
    expect(m).not.toBeNull();
    return { signed: Buffer.from(m![1], 'utf8'), hash: m![2], signature: Buffer.from(m![3], 'base64url') };
  };

  it('RSA-2048: RSASSA-PSS SHA-256, salt 32, verifies with the certificate public key', async () => {
    const { cert, privateKeyPem } = rsaCertificate();
    expect(cert.serialNumber).toBe(serial);
    const url = link(privateKeyPem, serial.toLowerCase());
    const { signed, hash, signature } = split(url);
    expect(hash).toBe(invoiceHashBase64Url(xml));
    expect(signature).toHaveLength(256);
    const pss = { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(verify('sha256', signed, pss, signature)).toBe(true);
    expect(verify('sha256', Buffer.concat([signed, Buffer.from('x')]), pss, signature)).toBe(false);
    // The code carries the ~470-character link intact.
    expect(decodePng(await qrPng(url, CAPTION_CERTIFICATE, { modulePixels: 4 })).qr?.data).toBe(url);
  });

  it('EC P-256: ECDSA SHA-256 as IEEE P1363 r‖s, verifies with the certificate public key', async () => {
    const { cert, privateKeyPem } = ecCertificate();
    const url = link(privateKeyPem);
    const { signed, signature } = split(url);
    expect(signature).toHaveLength(64);
    expect(verify('sha256', signed, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(verify('sha256', Buffer.from(signed.toString().replace('Nip', 'PeppolId')), { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
    expect(decodeSvg(await qrSvg(url, CAPTION_CERTIFICATE))?.data).toBe(url);
  });

  it('refuses keys KSeF does not accept and malformed parts', async () => {
    expect(() => link(pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey))).toThrow(/2048/);
    expect(() => link(pem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey))).toThrow(/P-256/);
    expect(() => link(pem(generateKeyPairSync('ed25519').privateKey))).toThrow(/P-256/);

    const privateKeyPem = pem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    expect(() => link(privateKeyPem, 'XYZ')).toThrow(/certificateSerial/);
    expect(() =>
      kodIILink({ environment: 'test', contextType: 'Pesel' as never, contextValue: '1', sellerNip: '5265877635', certificateSerial: serial, xml, privateKeyPem }),
    ).toThrow(/contextType/);
    expect(() =>
      kodIILink({ environment: 'test', contextType: 'Nip', contextValue: 'a/b', sellerNip: '5265877635', certificateSerial: serial, xml, privateKeyPem }),
    ).toThrow(/contextValue/);
  });

});
