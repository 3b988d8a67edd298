/// <reference lib="dom" />
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { PortalKeys } from '../../api/portal/session';
import { HARNESS_TOKEN } from '../../harness/token';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { freePort } from '../../harness/processes';
import { launchChromium, screenshotPath } from '../support/browser';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

/**
 * Depo in a real browser (Debian's Chromium via playwright-core) against the real API app served
 * over HTTP, a real dev server and worker, and a local receiver. Screenshots go to
 * test-results/screenshots/ (git-ignored); docs/portal.md shows them.
 */
const SECRET = 'depo-test-secret-0123456789abcdefghij';

describe('Depo, the partner portal', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let server: Server;
  let base: string;
  let downUntilRedelivery = true;

  beforeAll(async () => {
    env = await startDevServer();
    const config = testConfig({ DELIVERY_BACKOFF_SCALE: '0.00001', PORTAL_SECRET: SECRET });
    worker = await createTestWorker(env, config);
    running = worker.run();
    receiver = await Receiver.start();
    receiver.responder = (request) => (request.path === '/depo-down' && downUntilRedelivery ? { status: 500, body: 'partner endpoint is down' } : 200);
    const app = createApp({ client: env.client, config, tokens: [{ role: 'admin', token: HARNESS_TOKEN }] });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }) as Server;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    worker?.shutdown();
    await running;
    await receiver?.close();
    await env?.teardown();
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${HARNESS_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: screenshotPath(name), fullPage: true });

  async function signIn(page: Page, partnerId: string): Promise<void> {
    const link = await admin('POST', `/v1/partners/${partnerId}/portal-links`);
    expect(link.status).toBe(201);
    await page.goto(link.json.url);
    // Opening the link signs no one in by itself; the button does.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your endpoints' }).waitFor();
    // Signed in, and the token is gone from the address bar.
    expect(page.url()).toBe(`${base}/portal`);
  }

  async function createThroughPage(page: Page, url: string, maxEvents: string): Promise<string> {
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByLabel('Endpoint URL').fill(url);
    await page.getByLabel('Event types').fill('order.paid');
    await page.getByLabel('Batch window (ms)').fill('1000');
    await page.getByLabel('Max events per batch').fill(maxEvents);
    await page.getByRole('button', { name: 'Create subscription' }).click();
    return continuePastSecret(page);
  }

  /** After a creation: the signing secret shown once, then on to the subscription. Answers its id. */
  async function continuePastSecret(page: Page): Promise<string> {
    await page.getByText('Copy this signing secret now').waitFor();
    expect(await page.locator('#signing-secret').innerText()).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await page.getByRole('link', { name: 'Continue to the subscription' }).click();
    await page.getByRole('heading', { name: 'Actions' }).waitFor();
    return /\/portal\/subscriptions\/([0-9a-f-]{36})/.exec(page.url())![1]!;
  }

  /** Reloads the page until `text` shows in the row of the newest batch. */
  async function waitForNewestBatch(page: Page, text: RegExp, timeoutMs = 30_000): Promise<void> {
    await eventually(async () => {
      await page.reload();
      const row = page.locator('tr[data-batch-id]').first();
      return (await row.count()) > 0 && text.test(await row.innerText()) ? true : undefined;
    }, timeoutMs, `a batch row matching ${text}`);
  }

  let deliveredSubscription = '';
  let deliveredBatch = '';

  it('creates a subscription through the page (errors beside their fields), and shows its batch delivered with its payload, in local time', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Tokyo', locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, 'depo-a');
    const [cookie] = (await context.cookies()).filter((c) => c.name === '__Host-depo_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });

    // Out of bounds: the error stands next to the field that caused it, and nothing is created.
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByLabel('Endpoint URL').fill(receiver.url('/depo-ok'));
    await page.getByLabel('Event types').fill('order.paid');
    await page.getByLabel('Batch window (ms)').fill('500');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await expect.poll(() => page.locator('#windowMs-error').innerText()).toMatch(/1000/);
    expect(await page.getByLabel('Batch window (ms)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Batch window (ms)').getAttribute('aria-describedby')).toContain('windowMs-error');
    await shot(page, 'depo-form-error.png');
    expect((await admin('GET', '/v1/partners/depo-a/subscriptions')).json.subscriptions).toHaveLength(0);

    await page.getByRole('link', { name: '← All endpoints' }).click();
    deliveredSubscription = await createThroughPage(page, receiver.url('/depo-ok'), '5');
    const posted = await admin('POST', '/v1/partners/depo-a/events', [1, 2, 3].map((n) => ({ type: 'order.paid', data: { order: n } })));
    expect(posted.status).toBe(202);
    await waitForNewestBatch(page, /delivered/);
    // Times are shown in the viewer's zone (Tokyo here), not the server's UTC.
    expect(await page.locator('tr[data-batch-id] time').first().innerText()).toMatch(/GMT\+9/);
    await shot(page, 'depo-subscription.png');

    deliveredBatch = (await page.locator('tr[data-batch-id]').first().getAttribute('data-batch-id'))!;
    await page.getByRole('link', { name: `Batch ${deliveredBatch}` }).click();
    const payload = JSON.parse(await page.locator('pre.payload').innerText());
    expect(payload).toMatchObject({ batch_id: deliveredBatch, count: 3 });
    expect(payload.events.map((e: { id: string }) => e.id)).toEqual(posted.json.events.map((e: { id: string }) => e.id));
    await shot(page, 'depo-batch.png');
    await context.close();
  });

  it('sends a test event to the endpoint', async () => {
    const page = await browser.newPage();
    await signIn(page, 'depo-a');
    await page.goto(`${base}/portal/subscriptions/${deliveredSubscription}`);
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText('Test event accepted').waitFor();
    const arrived = await eventually(() => receiver.requests.find((r) => r.path === '/depo-ok' && r.body.includes('"type":"depo.test"')), 20_000, 'the test event');
    expect(JSON.parse(arrived.body).events[0].data.subscriptionId).toBe(deliveredSubscription);
    await page.close();
  });

  it('rotates the signing secret from the page, showing the new one once', async () => {
    const page = await browser.newPage();
    await signIn(page, 'depo-a');
    await page.goto(`${base}/portal/subscriptions/${deliveredSubscription}`);
    await page.getByText('Signed with secret generation 1').waitFor();
    await page.getByRole('button', { name: 'Rotate signing secret' }).click();
    await page.getByText('Copy this signing secret now').waitFor();
    expect(await page.locator('#signing-secret').innerText()).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await expect.poll(() => page.getByText('deliveries carry a second signature made with the previous secret').isVisible()).toBe(true);
    await shot(page, 'depo-secret.png');
    await page.getByRole('link', { name: 'Continue to the subscription' }).click();
    await page.getByText('Signed with secret generation 2; the previous secret signs too until').waitFor();
    expect((await admin('GET', `/v1/partners/depo-a/subscriptions/${deliveredSubscription}`)).json.signing.generation).toBe(2);
    await page.close();
  });

  it('pages through batches, ten at a time, older and newer', async () => {
    const created = await admin('POST', '/v1/partners/depo-a/subscriptions', { url: receiver.url('/depo-pages'), eventTypes: ['page.turned'], batching: { windowMs: 1000, maxEvents: 1 } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await admin('POST', '/v1/partners/depo-a/events', Array.from({ length: 12 }, (_, n) => ({ type: 'page.turned', data: { n } })))).status).toBe(202);
    await eventually(async () => {
      const listed = await admin('GET', `/v1/partners/depo-a/subscriptions/${id}/batches?status=delivered`);
      return listed.json.batches.length === 12 ? true : undefined;
    }, 30_000, '12 delivered batches listed');

    const page = await browser.newPage();
    await signIn(page, 'depo-a');
    await page.goto(`${base}/portal/subscriptions/${id}`);
    const rows = page.locator('tr[data-batch-id]');
    expect(await rows.count()).toBe(10);
    const first = await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-batch-id')));
    expect(await page.getByRole('link', { name: '← Newer' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Older →' }).click();
    await page.getByRole('heading', { name: 'Older batches' }).waitFor();
    const second = await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-batch-id')));
    expect(second).toHaveLength(2);
    expect(new Set([...first, ...second]).size).toBe(12);
    expect(await page.getByRole('link', { name: 'Older →' }).count()).toBe(0);
    await page.getByRole('link', { name: '← Newer' }).click();
    await page.getByRole('heading', { name: 'Recent batches' }).waitFor();
    expect(await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-batch-id')))).toEqual(first);
    await page.close();
  });

  it("shows a failing endpoint's attempts and error, then redelivers the failed batch", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'depo-a');
    await createThroughPage(page, receiver.url('/depo-down'), '1');
    await admin('POST', '/v1/partners/depo-a/events', { type: 'order.paid', data: { order: 99 } });
    await waitForNewestBatch(page, /pending[\s\S]*HTTP 500 from the endpoint: partner endpoint is down/);
    await shot(page, 'depo-failing.png');
    await waitForNewestBatch(page, /failed\s+1\s+26/, 90_000);

    const batchId = (await page.locator('tr[data-batch-id]').first().getAttribute('data-batch-id'))!;
    await page.getByRole('link', { name: `Batch ${batchId}` }).click();
    await expect.poll(() => page.locator('.facts').innerText()).toMatch(/delivery failed after 26 attempts|HTTP 500/);
    await shot(page, 'depo-failed-batch.png');
    downUntilRedelivery = false;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByText('Redelivery started').waitFor();
    await eventually(async () => {
      await page.reload();
      return /delivered/.test(await page.locator('.facts').innerText()) ? true : undefined;
    }, 30_000, 'the redelivered batch delivered');
    await page.close();
  }, 150_000);

  it('redelivers the failed batches of a time range from the form, and shows the progress', async () => {
    const previous = receiver.responder;
    let down = true;
    receiver.responder = (request, index) => (request.path === '/depo-rec' ? (down ? 503 : 200) : previous(request, index));
    const created = await admin('POST', '/v1/partners/depo-a/subscriptions', { url: receiver.url('/depo-rec'), eventTypes: ['rec.t'], batching: { windowMs: 1000, maxEvents: 1 } });
    const id = created.json.id as string;
    const since = new Date(Date.now() - 60_000).toISOString().slice(0, 19);
    expect((await admin('POST', '/v1/partners/depo-a/events', [{ type: 'rec.t', data: { n: 1 } }, { type: 'rec.t', data: { n: 2 } }])).status).toBe(202);
    await eventually(async () => {
      const listed = await admin('GET', `/v1/partners/depo-a/subscriptions/${id}/batches?status=failed`);
      return listed.json.batches.length === 2 ? true : undefined;
    }, 120_000, 'two failed batches');
    down = false;

    const page = await browser.newPage();
    await signIn(page, 'depo-a');
    await page.goto(`${base}/portal/subscriptions/${id}`);
    await page.getByLabel('Redeliver failed batches since (UTC)').fill(since);
    await page.getByRole('button', { name: 'Redeliver failed batches' }).click();
    await page.getByText('Recovery started').waitFor();
    await eventually(async () => {
      await page.reload();
      const text = await page.locator('p.recovery').innerText();
      return /done/.test(text) && /2 found, 2 redelivered, 2 delivered/.test(text) ? true : undefined;
    }, 60_000, 'the recovery shown done');
    await shot(page, 'depo-recovery.png');
    expect(receiver.requests.filter((r) => r.path === '/depo-rec' && r.receivedAt > 0).length).toBeGreaterThanOrEqual(2 * 26 + 2);
    receiver.responder = previous;
    await page.close();
  }, 200_000);

  it('reads well on a phone and works from the keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await signIn(page, 'depo-a');
    await page.goto(`${base}/portal/subscriptions/${deliveredSubscription}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const unlabelled = await page.$$eval('input:not([type=hidden]), textarea, select', (fields) => fields.filter((field) => (field as HTMLInputElement).labels?.length === 0).length);
    expect(unlabelled).toBe(0);
    await shot(page, 'depo-phone.png');

    // The first Tab reaches the skip link, and Enter on it moves focus past the navigation.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Tabbing on reaches the settings form's fields in order.
    await page.getByLabel('Endpoint URL').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('eventTypes');
    await context.close();
  });

  describe('access', () => {
    /** A session for `partnerId`, as a browser would hold it: the cookie, and the CSRF token of its forms. */
    async function session(partnerId: string) {
      const link = await admin('POST', `/v1/partners/${partnerId}/portal-links`);
      const token = new URL(link.json.url).searchParams.get('token')!;
      const login = await fetch(`${base}/portal/login`, {
        method: 'POST',
        headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        redirect: 'manual',
      });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const home = await fetch(`${base}/portal`, { headers: { cookie } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await home.text())![1]!;
      return { cookie, csrf };
    }
    const post = (path: string, cookie: string, form: Record<string, string>) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form), redirect: 'manual' });

    it("partner B can neither read nor change partner A's subscriptions and batches", async () => {
      const b = await session('depo-b');
      const get = (path: string) => fetch(`${base}${path}`, { headers: { cookie: b.cookie } }).then((r) => r.status);
      expect(await get(`/portal/subscriptions/${deliveredSubscription}`)).toBe(404);
      expect(await get(`/portal/batches/${deliveredBatch}`)).toBe(404);
      expect(await (await fetch(`${base}/portal`, { headers: { cookie: b.cookie } })).text()).not.toContain('/depo-ok');
      const attempts = [
        post(`/portal/subscriptions/${deliveredSubscription}`, b.cookie, { _csrf: b.csrf, url: 'https://attacker.example/hook', eventTypes: 'order.paid', windowMs: '1000', maxEvents: '1' }),
        post(`/portal/subscriptions/${deliveredSubscription}/enabled`, b.cookie, { _csrf: b.csrf, enabled: 'false' }),
        post(`/portal/subscriptions/${deliveredSubscription}/test-event`, b.cookie, { _csrf: b.csrf }),
        post(`/portal/subscriptions/${deliveredSubscription}/delete`, b.cookie, { _csrf: b.csrf }),
        post(`/portal/batches/${deliveredBatch}/redeliver`, b.cookie, { _csrf: b.csrf }),
      ];
      expect((await Promise.all(attempts)).map((r) => r.status)).toEqual([404, 404, 404, 404, 404]);
      const a = await admin('GET', `/v1/partners/depo-a/subscriptions/${deliveredSubscription}`);
      expect(a.json).toMatchObject({ url: receiver.url('/depo-ok'), enabled: true, batching: { maxEvents: 5 } });
    });

    it('refuses a missing or forged session, an expired or reused-as-session link, and a form without its CSRF token', async () => {
      const a = await session('depo-a');
      expect((await fetch(`${base}/portal`)).status).toBe(401);
      const [name, value] = a.cookie.split('=') as [string, string];
      const [header, , signature] = value.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ sub: 'depo-b', use: 'session', csrf: a.csrf, exp: 4_102_444_800 })).toString('base64url');
      expect((await fetch(`${base}/portal`, { headers: { cookie: `${name}=${header}.${forgedPayload}.${signature}` } })).status).toBe(401);

      const keys = new PortalKeys(SECRET);
      const expired = await keys.issueLink('depo-a', Date.now() - 60 * 60 * 1000);
      expect((await fetch(`${base}/portal/login?token=${expired.token}`, { redirect: 'manual' })).status).toBe(401);
      // Opening a good link sets no cookie; signing in from another site is refused.
      const fresh = await keys.issueLink('depo-a');
      const opened = await fetch(`${base}/portal/login?token=${fresh.token}`, { redirect: 'manual' });
      expect(opened.status).toBe(200);
      expect(opened.headers.get('set-cookie')).toBeNull();
      const crossSite = await fetch(`${base}/portal/login`, {
        method: 'POST',
        headers: { origin: 'https://attacker.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: fresh.token }),
        redirect: 'manual',
      });
      expect(crossSite.status).toBe(403);
      expect(crossSite.headers.get('set-cookie')).toBeNull();
      const link = await keys.issueLink('depo-a');
      expect((await fetch(`${base}/portal`, { headers: { cookie: `${name}=${link.token}` } })).status).toBe(401);

      const noToken = await post(`/portal/subscriptions/${deliveredSubscription}/enabled`, a.cookie, { enabled: 'false' });
      expect(noToken.status).toBe(403);
      const otherToken = await post(`/portal/subscriptions/${deliveredSubscription}/enabled`, a.cookie, { _csrf: (await session('depo-a')).csrf, enabled: 'false' });
      expect(otherToken.status).toBe(403);
      expect((await admin('GET', `/v1/partners/depo-a/subscriptions/${deliveredSubscription}`)).json.enabled).toBe(true);
    });
  });

  // Last: from here on the catalog holds types, and the forms offer them instead of a text box.
  it('offers the event-type catalog as choices grouped by prefix, with descriptions and examples; archived types only where chosen, marked', async () => {
    for (const type of [
      { name: 'order.paid', description: 'An order was paid in full', schema: { type: 'object', properties: { order: { type: 'integer' } } }, example: { order: 42 } },
      { name: 'order.refunded', description: 'Money went back to the customer' },
      { name: 'user.created', description: 'A user signed up', example: { userId: 'u-1' } },
      { name: 'order.legacy', description: 'The old order event' },
    ]) {
      expect((await admin('POST', '/v1/event-types', type)).status).toBe(201);
    }
    // Chosen before it was archived, beside a type the catalog never held.
    const existing = await admin('POST', '/v1/partners/depo-cat/subscriptions', { url: receiver.url('/depo-cat-old'), eventTypes: ['order.legacy', 'free.form'] });
    expect(existing.status).toBe(201);
    expect((await admin('POST', '/v1/event-types/order.legacy/archive')).status).toBe(200);

    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, 'depo-cat');
    await page.getByRole('link', { name: 'New subscription' }).click();
    const groups = page.locator('fieldset.type-group > legend');
    expect(await groups.allInnerTexts()).toEqual(['order', 'user']);
    // The archived type is not offered to a new subscription.
    expect(await page.locator('input[name=eventType]').evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value))).toEqual(['order.paid', 'order.refunded', 'user.created']);
    await expect.poll(() => page.getByText('An order was paid in full').isVisible()).toBe(true);
    await page.locator('.type', { hasText: 'user.created' }).getByText('Example data').click();
    expect(JSON.parse(await page.locator('.type', { hasText: 'user.created' }).locator('pre').innerText())).toEqual({ userId: 'u-1' });
    await shot(page, 'depo-catalog.png');

    // Nothing chosen: the error stands by the choices.
    await page.getByLabel('Endpoint URL').fill(receiver.url('/depo-cat'));
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await expect.poll(() => page.locator('#eventTypes-error').innerText()).toMatch(/at least one event type/);
    await page.getByLabel('order.paid').check();
    await page.getByLabel('user.created').check();
    await page.getByLabel('Other event types').fill('partner.custom');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    const id = await continuePastSecret(page);
    expect((await admin('GET', `/v1/partners/depo-cat/subscriptions/${id}`)).json.eventTypes).toEqual(['order.paid', 'user.created', 'partner.custom']);

    // The existing subscription: its archived type shown as such and still chosen, its free-form
    // type in the text box; saving it unchanged keeps both.
    await page.goto(`${base}/portal/subscriptions/${existing.json.id}`);
    await expect.poll(() => page.locator('p', { hasText: 'Event types:' }).innerText()).toMatch(/order\.legacy\s*archived/);
    expect(await page.getByLabel(/order\.legacy/).isChecked()).toBe(true);
    expect(await page.getByLabel('Other event types').inputValue()).toBe('free.form');
    await shot(page, 'depo-catalog-archived.png');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await admin('GET', `/v1/partners/depo-cat/subscriptions/${existing.json.id}`)).json.eventTypes).toEqual(['order.legacy', 'free.form']);
    await page.goto(`${base}/portal`);
    await expect.poll(() => page.locator('tr', { hasText: 'depo-cat-old' }).innerText()).toMatch(/order\.legacy\s*archived/);
    await context.close();
  });
});
