/** @jsxImportSource hono/jsx */
/**
 * Depo, the partner's pages, served under /portal by the same Hono app as the API and backed by
 * the same services. A partner signs in with a link the admin API issued; every page and action is
 * scoped to the partner its session names (a subscription or batch of another partner is 404).
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { z } from 'zod';
import { batchIdSchema, subscriptionIdSchema } from '../../domain/schema';
import type { SubscriptionView } from '../../workflows/messages';
import type { EventCatalog } from '../event-catalog';
import { NotFoundError } from '../../domain/errors';
import { problemOf, ProblemError } from '../../platform/problem';
import type { BatchService } from '../routes/batches';
import type { SubscriptionSchemas } from '../routes/subscriptions';
import type { EventIngestService } from '../services/event-ingest';
import type { SubscriptionService } from '../services/subscriptions';
import { LOCAL_TIME_SCRIPT, STYLESHEET } from './assets';
import { csrfMatches, SESSION_COOKIE, SESSION_TTL_SECONDS, type PortalKeys, type PortalSession } from './session';
import { BatchPage, Layout, MessagePage, SecretPage, SignInPage, SubscriptionForm, SubscriptionList, SubscriptionPage, type CatalogChoice, type FieldErrors, type FormValues } from './views';

export interface PortalDeps {
  keys: PortalKeys;
  subscriptions: SubscriptionService;
  batches: BatchService;
  ingest: Pick<EventIngestService, 'sendTestEvent'>;
  maxEventsLimit: number;
  /** The API's own body schemas: the same rules judge a form and a JSON body. */
  schemas: SubscriptionSchemas;
  /** The event-type catalog, offered as choices. */
  catalog: Pick<EventCatalog, 'list' | 'unknownTypes'>;
}

type Env = { Variables: { session: PortalSession } };

/** How many recent batches a subscription's page shows, each read with its attempts. */
const RECENT_BATCHES = 10;

const LINK_NOT_VALID = 'This sign-in link is not valid or has expired (links last 15 minutes). Ask for a new one.';

const NOTICES: Record<string, string> = {
  created: 'Subscription created.',
  saved: 'Saved. Changes apply from the next batch.',
  deleted: 'Subscription deleted: its pending events went out in a last batch.',
  'test-sent': 'Test event accepted: it goes out with the next batch.',
  enabled: 'Enabled: held batches are being sent.',
  disabled: 'Disabled: new events are not sent to this endpoint.',
  redelivered: 'Redelivery started: a fresh 26 attempts with the same bytes.',
  'recovery-started': 'Recovery started: the failed batches of that time go out again, oldest first.',
};

export function createPortal(deps: PortalDeps): Hono<Env> {
  const { keys, subscriptions, batches } = deps;
  const portal = new Hono<Env>();

  portal.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );
  portal.use(async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  portal.get('/assets/depo.css', (c) => c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8' }));
  portal.get('/assets/local-time.js', (c) => c.body(LOCAL_TIME_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

  // Opening the link only shows a button: link previewers and prefetchers that GET it sign no one in.
  portal.get('/login', async (c) => {
    c.header('Referrer-Policy', 'no-referrer');
    const token = c.req.query('token') ?? '';
    const partnerId = await keys.openLink(token);
    if (!partnerId) return c.html(<MessagePage title="Sign-in link not valid" message={LINK_NOT_VALID} />, 401);
    return c.html(<SignInPage partnerId={partnerId} token={token} />);
  });

  // The button trades the link's token for a session cookie and sends the browser on to a URL
  // without it. Only from a page of this host: another site cannot sign a visitor in (login CSRF).
  portal.post('/login', async (c) => {
    c.header('Referrer-Policy', 'no-referrer');
    const origin = c.req.header('origin');
    if (origin !== undefined && hostOf(origin) !== c.req.header('host')) {
      return c.html(<MessagePage title="Sign-in refused" message="Sign in from the link you were given, not from another site." />, 403);
    }
    const form = await c.req.parseBody();
    const partnerId = await keys.openLink(typeof form.token === 'string' ? form.token : '');
    if (!partnerId) return c.html(<MessagePage title="Sign-in link not valid" message={LINK_NOT_VALID} />, 401);
    const { token } = await keys.issueSession(partnerId);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: SESSION_TTL_SECONDS });
    return c.redirect('/portal', 303);
  });

  portal.get('/signed-out', (c) => c.html(<MessagePage title="Signed out" message="You are signed out of Depo. Use a new sign-in link to come back." />));

  // Everything below needs a session; every form post needs its CSRF token.
  portal.use(async (c, next) => {
    const session = await keys.openSession(getCookie(c, SESSION_COOKIE));
    if (!session) {
      return c.html(<MessagePage title="Please sign in" message="Your Depo session has ended or was never started. Open the sign-in link you were given." />, 401);
    }
    if (c.req.method === 'POST') {
      // `all`: a form's checkboxes repeat a name; the parsed body is cached for the handler.
      const form = await c.req.parseBody({ all: true });
      if (!csrfMatches(session, form._csrf)) {
        return c.html(<MessagePage title="Form expired" message="This form was not sent from your current Depo session. Go back, reload the page and try again." />, 403);
      }
    }
    c.set('session', session);
    await next();
  });

  const page = (c: Context<Env>, title: string, body: Parameters<typeof Layout>[0]['children'], status: 200 | 400 = 200) => {
    const { partnerId, csrf } = c.get('session');
    return c.html(<Layout title={title} partnerId={partnerId} csrf={csrf}>{body}</Layout>, status);
  };
  const notice = (c: Context<Env>) => NOTICES[c.req.query('done') ?? ''];

  portal.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.redirect('/portal/signed-out', 303);
  });

  portal.get('/', async (c) => {
    const { partnerId } = c.get('session');
    const archived = new Set((await catalogChoice()).types.filter((type) => type.archived).map((type) => type.name));
    return page(c, 'Your endpoints', <SubscriptionList subscriptions={await subscriptions.list(partnerId)} archived={archived} notice={notice(c)} />);
  });

  portal.get('/subscriptions/new', async (c) => {
    const { csrf } = c.get('session');
    const values = { url: '', eventTypes: '', windowMs: '1000', maxEvents: String(deps.maxEventsLimit) };
    return page(c, 'New subscription', newSubscription(values, {}, csrf, deps.maxEventsLimit, await catalogChoice()));
  });

  portal.post('/subscriptions', async (c) => {
    const { partnerId, csrf } = c.get('session');
    const values = formValues(await c.req.parseBody({ all: true }));
    const parsed = deps.schemas.create.safeParse(toInput(values));
    const saved = parsed.success ? await asFieldErrors(() => subscriptions.create(partnerId, parsed.data)) : { errors: fieldErrors(parsed.error) };
    if ('errors' in saved) return page(c, 'New subscription', newSubscription(values, saved.errors, csrf, deps.maxEventsLimit, await catalogChoice()), 400);
    const { signingSecret } = saved.view;
    if (!signingSecret) return c.redirect(`/portal/subscriptions/${saved.view.id}?done=created`, 303);
    // Shown here, once, rather than after a redirect: the secret goes into no URL and no later page.
    return page(c, 'Subscription created', <SecretPage subscriptionId={saved.view.id} secret={signingSecret} heading="Subscription created" />);
  });

  portal.get('/subscriptions/:id', async (c) => {
    const subscription = await ownSubscription(c);
    return subscriptionPage(c, subscription, valuesOf(subscription), {}, notice(c));
  });

  portal.post('/subscriptions/:id', async (c) => {
    const { partnerId } = c.get('session');
    const subscription = await ownSubscription(c);
    const values = formValues(await c.req.parseBody({ all: true }));
    const parsed = deps.schemas.patch.safeParse(toInput(values));
    const saved = parsed.success ? await asFieldErrors(() => subscriptions.update(partnerId, subscription.id, parsed.data)) : { errors: fieldErrors(parsed.error) };
    if ('errors' in saved) return subscriptionPage(c, subscription, values, saved.errors, undefined, 400);
    return c.redirect(`/portal/subscriptions/${subscription.id}?done=saved`, 303);
  });

  portal.post('/subscriptions/:id/enabled', async (c) => {
    const { partnerId } = c.get('session');
    const subscription = await ownSubscription(c);
    const enabled = (await c.req.parseBody()).enabled === 'true';
    await subscriptions.update(partnerId, subscription.id, { enabled });
    return c.redirect(`/portal/subscriptions/${subscription.id}?done=${enabled ? 'enabled' : 'disabled'}`, 303);
  });

  portal.post('/subscriptions/:id/test-event', async (c) => {
    const subscription = await ownSubscription(c);
    await deps.ingest.sendTestEvent(subscription.partnerId, subscription.id);
    return c.redirect(`/portal/subscriptions/${subscription.id}?done=test-sent`, 303);
  });

  portal.post('/subscriptions/:id/rotate-secret', async (c) => {
    const subscription = await ownSubscription(c);
    const { signingSecret, signing } = await subscriptions.rotateSecret(subscription.partnerId, subscription.id);
    return page(c, 'New signing secret', <SecretPage subscriptionId={subscription.id} secret={signingSecret} heading="New signing secret" previousUntil={signing.previousUntil} />);
  });

  // "Redeliver failed batches since…": the form's times are UTC (the label says so).
  portal.post('/subscriptions/:id/recover', async (c) => {
    const subscription = await ownSubscription(c);
    const form = await c.req.parseBody({ all: true });
    const utc = (value: unknown) => (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : undefined);
    const since = utc(form.since);
    if (!since) throw new ProblemError(400, 'Bad Request', 'Give the time to redeliver from, as a date and a time (UTC).');
    const until = utc(form.until);
    await subscriptions.recover(subscription.partnerId, subscription.id, { since, ...(until ? { until } : {}) });
    return c.redirect(`/portal/subscriptions/${subscription.id}?done=recovery-started#recovery`, 303);
  });

  portal.post('/subscriptions/:id/delete', async (c) => {
    const subscription = await ownSubscription(c);
    await subscriptions.delete(subscription.partnerId, subscription.id);
    return c.redirect('/portal?done=deleted', 303);
  });

  portal.get('/batches/:batchId', async (c) => {
    const batch = await ownBatch(c);
    return page(c, `Batch ${batch.batchId}`, <BatchPage batch={batch} csrf={c.get('session').csrf} notice={notice(c)} />);
  });

  portal.post('/batches/:batchId/redeliver', async (c) => {
    const batch = await ownBatch(c);
    await batches.redeliver(batch.batchId);
    return c.redirect(`/portal/batches/${batch.batchId}?done=redelivered`, 303);
  });

  portal.onError((err, c) => {
    const problem = problemOf(err);
    const status = problem && problem.status < 500 ? problem.status : 500;
    const message = problem && status < 500 ? problem.detail : 'Something went wrong on our side. Try again in a moment.';
    if (status === 500) console.error('portal: request failed', c.req.method, c.req.path, err);
    return c.html(<MessagePage title={status === 404 ? 'Not found' : 'That did not work'} message={message} />, status as 400);
  });

  /** The session partner's subscription named in the path; 404 for anyone else's. */
  async function ownSubscription(c: Context<Env>): Promise<SubscriptionView> {
    const id = c.req.param('id') ?? '';
    if (!subscriptionIdSchema.safeParse(id).success) throw new ProblemError(404, 'Not Found', 'There is no such subscription.');
    return subscriptions.get(c.get('session').partnerId, id);
  }

  async function ownBatch(c: Context<Env>) {
    const batchId = c.req.param('batchId') ?? '';
    const missing = new ProblemError(404, 'Not Found', 'There is no such batch.');
    if (!batchIdSchema.safeParse(batchId).success) throw missing;
    const batch = await batches.get(batchId);
    if (batch.partnerId !== c.get('session').partnerId) throw missing;
    return batch;
  }

  async function subscriptionPage(c: Context<Env>, subscription: SubscriptionView, values: FormValues, errors: FieldErrors, text?: string, status: 200 | 400 = 200) {
    // Pages of batches: `page` is Temporal's page token (the API's cursor); `newer` the tokens of
    // the pages before it, most recent last ('-' for the first page), so "Newer" can step back.
    const cursor = cursorParam(c.req.query('page'));
    const newerChain = (c.req.query('newer') ?? '').split(',').filter((item) => item === '-' || cursorParam(item));
    const { batches: recent, nextCursor } = await batches.page(subscription.partnerId, subscription.id, { limit: RECENT_BATCHES, ...(cursor ? { cursor } : {}) });
    const detailed = await Promise.all(recent.map((batch) => batches.get(batch.batchId)));
    const base = `/portal/subscriptions/${subscription.id}`;
    const pageLink = (token: string | undefined, chain: string[]) => `${base}?${new URLSearchParams({ ...(token && token !== '-' ? { page: token } : {}), ...(chain.length > 0 ? { newer: chain.join(',') } : {}) }).toString()}#batches`;
    const pager = {
      ...(cursor ? { newer: pageLink(newerChain.at(-1), newerChain.slice(0, -1)) } : {}),
      ...(nextCursor ? { older: pageLink(nextCursor, [...newerChain, cursor ?? '-']) } : {}),
    };
    const recovery = await subscriptions.recovery(subscription.partnerId, subscription.id).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    const body = (
      <SubscriptionPage subscription={subscription} batches={detailed} csrf={c.get('session').csrf} values={values} errors={errors} maxEventsLimit={deps.maxEventsLimit} catalog={await catalogChoice()} pager={pager} recovery={recovery} notice={text} />
    );
    return page(c, subscription.url, body, status);
  }

  async function catalogChoice(): Promise<CatalogChoice> {
    return { types: await deps.catalog.list(), allowOther: deps.catalog.unknownTypes === 'allow' };
  }

  return portal;
}

/** A page token from a link, if it looks like one (the API's cursor alphabet). */
function cursorParam(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9_-]{1,4096}$/.test(value) ? value : undefined;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function newSubscription(values: FormValues, errors: FieldErrors, csrf: string, maxEventsLimit: number, catalog: CatalogChoice) {
  return (
    <>
      <p><a href="/portal">← All endpoints</a></p>
      <h1>New subscription</h1>
      <SubscriptionForm action="/portal/subscriptions" values={values} errors={errors} csrf={csrf} maxEventsLimit={maxEventsLimit} submitLabel="Create subscription" catalog={catalog} />
    </>
  );
}

/** The form's fields; the chosen catalog types and the typed ones together, one per line. */
function formValues(form: Record<string, unknown>): FormValues {
  const text = (key: string) => (typeof form[key] === 'string' ? form[key] : '');
  const chosen = ([] as unknown[]).concat(form.eventType ?? []).filter((value): value is string => typeof value === 'string');
  const eventTypes = [...chosen, text('eventTypes')].filter(Boolean).join('\n');
  return { url: text('url').trim(), eventTypes, windowMs: text('windowMs').trim(), maxEvents: text('maxEvents').trim() };
}

function valuesOf(s: SubscriptionView): FormValues {
  return { url: s.url, eventTypes: s.eventTypes.join('\n'), windowMs: String(s.batching.windowMs), maxEvents: String(s.batching.maxEvents) };
}

/** The form as the API's JSON body: the same schema then judges both. Blank numbers take their defaults. */
function toInput(values: FormValues) {
  const number = (text: string) => (text === '' ? undefined : Number(text));
  const batching = { windowMs: number(values.windowMs), maxEvents: number(values.maxEvents) };
  return {
    url: values.url,
    eventTypes: values.eventTypes.split(/[\n,]/).map((type) => type.trim()).filter(Boolean),
    ...(batching.windowMs === undefined && batching.maxEvents === undefined ? {} : { batching: JSON.parse(JSON.stringify(batching)) as object }),
  };
}

/** Each schema issue, put next to the form field it is about. */
function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const [first, second] = issue.path;
    const field = first === 'batching' ? second : first;
    const key = field === 'url' || field === 'eventTypes' || field === 'windowMs' || field === 'maxEvents' ? field : 'form';
    errors[key] ??= messageFor(key, issue);
  }
  return errors;
}

function messageFor(key: keyof FieldErrors, issue: z.core.$ZodIssue): string {
  const numeric = key === 'windowMs' || key === 'maxEvents';
  if (numeric && issue.code === 'invalid_type') return 'Enter a whole number.';
  if (numeric && issue.code === 'too_small') return `Must be at least ${String(issue.minimum)}.`;
  if (numeric && issue.code === 'too_big') return `Must be at most ${String(issue.maximum)}.`;
  return humanize(key, issue.message);
}

function humanize(field: keyof FieldErrors, message: string): string {
  if (field === 'eventTypes' && /too small|>=1/i.test(message)) return 'Give at least one event type.';
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith('.') ? '' : '.');
}

/** Saves; a refusal of the endpoint (the policy at save time) becomes an error next to the url field. */
async function asFieldErrors<T extends SubscriptionView>(save: () => Promise<T>): Promise<{ view: T } | { errors: FieldErrors }> {
  try {
    return { view: await save() };
  } catch (err) {
    const problem = problemOf(err);
    const urlError = problem?.status === 400 ? problem.errors?.find((e) => e.path === 'body.url') : undefined;
    if (urlError) return { errors: { url: humanize('url', urlError.message) } };
    throw err;
  }
}
