import { jest } from '@jest/globals';
import { addressRefusal } from '../../src/webhooks/addresses.js';
import { adminAuth } from '../support/server.js';
import { startKsefStack, withNumber, type KsefStack } from '../support/ksef.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { eventually, WebhookReceiver } from '../support/webhook-receiver.js';

/** Where webhook deliveries may not go: never link-local (cloud metadata) and the like; private only if allowed. */
jest.setTimeout(120_000);

describe('webhook address policy', () => {
  it('refuses link-local, unspecified, multicast and reserved addresses always, private and loopback ones under deny', () => {
    for (const ip of ['169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'fe80::1', 'ff02::1', '::ffff:169.254.169.254']) {
      expect([ip, addressRefusal(ip, 'allow')]).toEqual([ip, expect.stringContaining('link-local')]);
    }
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.5', '192.168.1.10', '100.64.0.1', '::1', 'fd12::1', '::ffff:127.0.0.1']) {
      expect([ip, addressRefusal(ip, 'allow')]).toEqual([ip, null]);
      expect([ip, addressRefusal(ip, 'deny')]).toEqual([ip, expect.stringContaining('private or loopback')]);
    }
    for (const ip of ['93.184.216.34', '2001:db8::1', '172.32.0.1', '11.0.0.1']) expect([ip, addressRefusal(ip, 'deny')]).toEqual([ip, null]);
  });
});

describeWithShared('webhooks under WEBHOOK_PRIVATE_ADDRESSES=deny', () => {
  let k: KsefStack;
  let receiver: WebhookReceiver;
  const subscribe = (url: string) => k.api.http.post('/webhooks').set('Authorization', adminAuth).send({ url, events: ['invoice.sent'] });

  beforeAll(async () => {
    k = await startKsefStack({ env: { WEBHOOK_INTERVAL_MS: '50', WEBHOOK_RETRY_BASE_MS: '60000', WEBHOOK_PRIVATE_ADDRESSES: 'deny' } });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await k.close();
    await receiver.close();
  });

  it('refuses an address literal it may not deliver to (400 naming url), and a name that resolves to one at delivery', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[::ffff:169.254.169.254]/', 'http://0.0.0.0:8080/hook', receiver.url]) {
      const res = await subscribe(url);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body.error.details).toEqual([{ path: 'body.url', message: expect.stringMatching(/^must not point at /) }]);
    }
    // A host name passes when subscribed; the address it resolves to is judged at each attempt.
    const byName = await subscribe(receiver.url.replace('127.0.0.1', 'localhost'));
    expect(byName.status).toBe(201);
    const sent = await k.api.http
      .post('/invoices/test/send')
      .set('Authorization', adminAuth)
      .send({ invoiceXml: withNumber(readSample('fa3-vat.xml'), `HOOK/ADDR/${Date.now()}`).toString('base64') });
    expect(sent.status).toBe(200);
    const attempts = await eventually('the first attempt', async () => {
      const list = (await k.api.http.get(`/webhooks/${byName.body.id}/deliveries`).set('Authorization', adminAuth)).body.deliveries;
      return list.length > 0 ? list : undefined;
    });
    expect(attempts[0]).toMatchObject({ succeeded: false, statusCode: null, error: expect.stringMatching(/^EADDRREFUSED: localhost resolves to (127\.0\.0\.1|::1) is a private or loopback address/) });
    expect(receiver.requests).toEqual([]);
  });
});
