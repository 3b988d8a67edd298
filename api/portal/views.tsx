/** @jsxImportSource hono/jsx */
/**
 * Depo's pages, rendered on the server with Hono's JSX: plain HTML forms (they work without
 * JavaScript; one small script shows times in the viewer's time zone), labels on every field,
 * errors next to the field that caused them.
 */
import type { Child } from 'hono/jsx';
import type { BatchDetail } from '../../stores/batch-store';
import type { SubscriptionSummary } from '../../stores/subscription-store';
import type { EventTypeDefinition } from '../../workflows/event-type';
import type { SubscriptionView } from '../../workflows/messages';
import type { RecoveryProgress } from '../../workflows/recovery';

export interface FormValues {
  url: string;
  eventTypes: string;
  windowMs: string;
  maxEvents: string;
}
export type FieldErrors = Partial<Record<keyof FormValues | 'form', string>>;

/** The event-type catalog as a form offers it. */
export interface CatalogChoice {
  /** Every type of the catalog, archived ones too. Empty: the form asks for names in a text box. */
  types: EventTypeDefinition[];
  /** UNKNOWN_EVENT_TYPES=allow: types the catalog does not hold may be typed in too. */
  allowOther: boolean;
}

/** The selected types, one per line in `FormValues.eventTypes`. */
export const selectedTypes = (values: FormValues) => values.eventTypes.split(/[\n,]/).map((type) => type.trim()).filter(Boolean);

interface LayoutProps {
  title: string;
  partnerId?: string;
  csrf?: string;
  children: Child;
}

export function Layout({ title, partnerId, csrf, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Depo`}</title>
        <link rel="stylesheet" href="/portal/assets/depo.css" />
        <script src="/portal/assets/local-time.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <nav aria-label="Main">
            <a href="/portal" class="brand">Depo</a>
            {partnerId && <span class="who">Partner <strong>{partnerId}</strong></span>}
            {csrf && (
              <form method="post" action="/portal/logout" class="inline">
                <input type="hidden" name="_csrf" value={csrf} />
                <button type="submit" class="link">Sign out</button>
              </form>
            )}
          </nav>
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}

/** A time, written in UTC by the server and shown in the viewer's zone by local-time.js. */
export function Time({ iso }: { iso: string | undefined }) {
  if (!iso) return <span>—</span>;
  return <time datetime={iso}>{iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>;
}

export function Notice({ text }: { text: string | undefined }) {
  return text ? <p class="notice" role="status">{text}</p> : null;
}

export function MessagePage({ title, message }: { title: string; message: string }) {
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <p>{message}</p>
    </Layout>
  );
}

export function SignInPage({ partnerId, token }: { partnerId: string; token: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in to Depo</h1>
      <p>You are about to manage the webhook endpoints of partner <strong>{partnerId}</strong>.</p>
      <form method="post" action="/portal/login">
        <input type="hidden" name="token" value={token} />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function SubscriptionList({ subscriptions, archived, notice }: { subscriptions: SubscriptionSummary[]; archived: ReadonlySet<string>; notice?: string }) {
  return (
    <>
      <h1>Your endpoints</h1>
      <Notice text={notice} />
      <p><a class="button" href="/portal/subscriptions/new">New subscription</a></p>
      {subscriptions.length === 0 ? (
        <p>No subscriptions yet.</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="visually-hidden">Subscriptions</caption>
            <thead>
              <tr><th scope="col">Endpoint</th><th scope="col">Event types</th><th scope="col">Batching</th><th scope="col">State</th></tr>
            </thead>
            <tbody>
              {subscriptions.map((s) => (
                <tr>
                  <td data-label="Endpoint"><a href={`/portal/subscriptions/${s.id}`}>{s.url}</a></td>
                  <td data-label="Event types"><TypeNames names={s.eventTypes} archived={archived} /></td>
                  <td data-label="Batching">{`${s.batching.maxEvents} events or ${s.batching.windowMs / 1000} s`}</td>
                  <td data-label="State">{s.enabled === false ? <Status status="disabled" /> : s.endpointHealth?.failingSince ? <Status status="failing" /> : <Status status="active" />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Event type names, an archived one marked as such. */
function TypeNames({ names, archived }: { names: string[]; archived: ReadonlySet<string> }) {
  return (
    <>
      {names.map((name, i) => (
        <>
          {i > 0 && ', '}
          <code>{name}</code>
          {archived.has(name) && <span class="status status-archived"> archived</span>}
        </>
      ))}
    </>
  );
}

interface FieldProps {
  name: keyof FormValues;
  label: string;
  hint: string;
  errors: FieldErrors;
  children: (attributes: Record<string, string | boolean | undefined>) => Child;
}

/** A labelled field with its hint and, when it caused one, its error right below it. */
function Field({ name, label, hint, errors, children }: FieldProps) {
  const error = errors[name];
  const describedBy = [`${name}-hint`, error ? `${name}-error` : undefined].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={name}>{label}</label>
      {children({ id: name, name, 'aria-describedby': describedBy, 'aria-invalid': error ? 'true' : undefined })}
      <p class="hint" id={`${name}-hint`}>{hint}</p>
      {error && <p class="error" id={`${name}-error`}>{error}</p>}
    </div>
  );
}

export function SubscriptionForm(props: { action: string; values: FormValues; errors: FieldErrors; csrf: string; maxEventsLimit: number; submitLabel: string; catalog: CatalogChoice }) {
  const { action, values, errors, csrf, maxEventsLimit, submitLabel, catalog } = props;
  return (
    <form method="post" action={action} novalidate>
      <input type="hidden" name="_csrf" value={csrf} />
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <Field name="url" label="Endpoint URL" hint="HTTPS; your server must accept our client certificate." errors={errors}>
        {(a) => <input type="url" required value={values.url} autocomplete="url" {...a} />}
      </Field>
      {catalog.types.length === 0 ? (
        <Field name="eventTypes" label="Event types" hint="One per line (or comma-separated), 1 to 100." errors={errors}>
          {(a) => <textarea rows={3} required {...a}>{values.eventTypes}</textarea>}
        </Field>
      ) : (
        <TypePicker values={values} errors={errors} catalog={catalog} />
      )}
      <div class="row">
        <Field name="windowMs" label="Batch window (ms)" hint="1000 to 60000; default 1000." errors={errors}>
          {(a) => <input type="number" inputmode="numeric" min="1000" max="60000" step="1" value={values.windowMs} {...a} />}
        </Field>
        <Field name="maxEvents" label="Max events per batch" hint={`1 to ${maxEventsLimit}; default ${maxEventsLimit}.`} errors={errors}>
          {(a) => <input type="number" inputmode="numeric" min="1" max={String(maxEventsLimit)} step="1" value={values.maxEvents} {...a} />}
        </Field>
      </div>
      <button type="submit">{submitLabel}</button>
    </form>
  );
}

/**
 * The catalog's types as checkboxes, grouped by prefix (the part before the first dot), each with
 * its description and example data. An archived type is offered only where it is already chosen,
 * marked as such. Chosen types the catalog does not hold stay chosen: typed in the text box below
 * when other types are allowed, otherwise as checkboxes that can be cleared.
 */
function TypePicker({ values, errors, catalog }: { values: FormValues; errors: FieldErrors; catalog: CatalogChoice }) {
  const selected = new Set(selectedTypes(values));
  const known = new Set(catalog.types.map((type) => type.name));
  const offered = catalog.types.filter((type) => !type.archived || selected.has(type.name));
  const groups = new Map<string, EventTypeDefinition[]>();
  for (const type of offered) {
    const prefix = type.name.includes('.') ? type.name.slice(0, type.name.indexOf('.')) : 'other';
    groups.set(prefix, [...(groups.get(prefix) ?? []), type]);
  }
  const unknown = [...selected].filter((name) => !known.has(name));
  const error = errors.eventTypes;
  return (
    <fieldset class={error ? 'field types has-error' : 'field types'} aria-describedby={error ? 'eventTypes-hint eventTypes-error' : 'eventTypes-hint'}>
      <legend>Event types</legend>
      <p class="hint" id="eventTypes-hint">Choose the events this endpoint receives (1 to 100).</p>
      {error && <p class="error" id="eventTypes-error">{error}</p>}
      {[...groups].map(([prefix, types]) => (
        <fieldset class="type-group">
          <legend>{prefix}</legend>
          {types.map((type) => (
            <div class="type">
              <input type="checkbox" name="eventType" value={type.name} id={`type-${type.name}`} checked={selected.has(type.name)} />
              <label for={`type-${type.name}`}>
                <code>{type.name}</code>
                {type.archived && <span class="status status-archived"> archived</span>}
              </label>
              {type.description && <p class="hint">{type.description}</p>}
              {type.example && (
                <details>
                  <summary>Example data</summary>
                  <pre>{JSON.stringify(type.example, null, 2)}</pre>
                </details>
              )}
            </div>
          ))}
        </fieldset>
      ))}
      {!catalog.allowOther && unknown.length > 0 && (
        <fieldset class="type-group">
          <legend>Not in the catalog</legend>
          {unknown.map((name) => (
            <div class="type">
              <input type="checkbox" name="eventType" value={name} id={`type-${name}`} checked />
              <label for={`type-${name}`}><code>{name}</code></label>
            </div>
          ))}
        </fieldset>
      )}
      {catalog.allowOther && (
        <div class="type-other">
          <label for="eventTypes">Other event types</label>
          <textarea id="eventTypes" name="eventTypes" rows={2} aria-describedby="eventTypes-other-hint">{unknown.join('\n')}</textarea>
          <p class="hint" id="eventTypes-other-hint">Types not in the catalog, one per line.</p>
        </div>
      )}
    </fieldset>
  );
}

function ActionButton({ action, csrf, label, name, value, danger }: { action: string; csrf: string; label: string; name?: string; value?: string; danger?: boolean }) {
  return (
    <form method="post" action={action} class="inline">
      <input type="hidden" name="_csrf" value={csrf} />
      {name && <input type="hidden" name={name} value={value} />}
      <button type="submit" class={danger ? 'danger' : undefined}>{label}</button>
    </form>
  );
}

export function SubscriptionPage(props: {
  subscription: SubscriptionView;
  batches: BatchDetail[];
  csrf: string;
  values: FormValues;
  errors: FieldErrors;
  maxEventsLimit: number;
  catalog: CatalogChoice;
  /** Links to the newer and older pages of batches, where there are any. */
  pager: { newer?: string; older?: string };
  /** The latest bulk recovery, if there was one. */
  recovery?: RecoveryProgress;
  notice?: string;
}) {
  const { subscription: s, batches, csrf, notice } = props;
  const archived = new Set(props.catalog.types.filter((type) => type.archived).map((type) => type.name));
  const base = `/portal/subscriptions/${s.id}`;
  const health = s.endpointHealth;
  return (
    <>
      <p><a href="/portal">← All endpoints</a></p>
      <h1>{s.url}</h1>
      <Notice text={notice} />
      <p>
        {s.enabled ? <Status status="active" /> : <Status status="disabled" />}{' '}
        {s.pendingEvents} event(s) waiting for the next batch. Created <Time iso={s.createdAt} />.
      </p>
      <p>Event types: <TypeNames names={s.eventTypes} archived={archived} /></p>
      <p>
        Signed with secret generation {s.signing.generation}
        {s.signing.previousUntil && Date.parse(s.signing.previousUntil) > Date.now() && <>; the previous secret signs too until <Time iso={s.signing.previousUntil} /></>}.
      </p>
      {!s.enabled && health.disabledReason && <p class="warning">Disabled: {health.disabledReason}. New events are not sent to it.</p>}
      {health.failingSince && (
        <p class="warning">
          Your endpoint has been failing since <Time iso={health.failingSince} />. {health.heldBatches} newer batch(es) wait until batch{' '}
          <a href={`/portal/batches/${health.probeBatchId}`}>{health.probeBatchId}</a> gets through.
        </p>
      )}
      <section aria-labelledby="actions">
        <h2 id="actions">Actions</h2>
        <div class="actions">
          <ActionButton action={`${base}/test-event`} csrf={csrf} label="Send a test event" />
          {s.enabled ? (
            <ActionButton action={`${base}/enabled`} csrf={csrf} name="enabled" value="false" label="Disable" />
          ) : (
            <ActionButton action={`${base}/enabled`} csrf={csrf} name="enabled" value="true" label="Enable and send what is held" />
          )}
          <ActionButton action={`${base}/rotate-secret`} csrf={csrf} label="Rotate signing secret" />
          <ActionButton action={`${base}/delete`} csrf={csrf} label="Delete" danger />
        </div>
      </section>
      <section aria-labelledby="batches">
        <h2 id="batches">{props.pager.newer ? 'Older batches' : 'Recent batches'}</h2>
        {batches.length === 0 ? (
          <p>{props.pager.newer ? 'No more batches.' : 'No batches yet.'}</p>
        ) : (
          <div class="scroll">
            <table>
              <caption class="visually-hidden">Recent batches, newest first</caption>
              <thead>
                <tr><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Events</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Batch</th></tr>
              </thead>
              <tbody>
                {batches.map((b) => (
                  <tr data-batch-id={b.batchId}>
                    <td data-label="Created"><Time iso={b.createdAt} /></td>
                    <td data-label="Status"><Status status={b.status} /></td>
                    <td data-label="Events">{b.eventCount}</td>
                    <td data-label="Attempts">{b.attempts}</td>
                    <td data-label="Last error" class="error-text">{b.lastError ?? ''}</td>
                    <td data-label="Batch"><a href={`/portal/batches/${b.batchId}`} aria-label={`Batch ${b.batchId}`}>Payload</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {(props.pager.newer || props.pager.older) && (
          <nav class="pager" aria-label="Batch pages">
            {props.pager.newer && <a href={props.pager.newer} rel="prev">← Newer</a>}
            {props.pager.older && <a href={props.pager.older} rel="next">Older →</a>}
          </nav>
        )}
      </section>
      <section aria-labelledby="recovery">
        <h2 id="recovery">Redeliver failed batches</h2>
        {props.recovery && (
          <p role="status" class="recovery">
            {props.recovery.status === 'done' ? 'Last recovery, done' : `Recovery ${props.recovery.status === 'waiting' ? 'waiting for its batches' : 'running'}`}: batches failed from{' '}
            <Time iso={props.recovery.since} /> to <Time iso={props.recovery.until} />: {props.recovery.found} found, {props.recovery.redelivered} redelivered,{' '}
            {props.recovery.delivered} delivered{props.recovery.failedAgain > 0 ? `, ${props.recovery.failedAgain} failed again` : ''}.
          </p>
        )}
        <form method="post" action={`${base}/recover`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <div class="row">
            <div class="field">
              <label for="recover-since">Redeliver failed batches since (UTC)</label>
              <input type="datetime-local" id="recover-since" name="since" required step="1" />
            </div>
            <div class="field">
              <label for="recover-until">until (UTC, optional: now)</label>
              <input type="datetime-local" id="recover-until" name="until" step="1" />
            </div>
          </div>
          <button type="submit">Redeliver failed batches</button>
        </form>
      </section>
      <section aria-labelledby="edit">
        <h2 id="edit">Settings</h2>
        <p class="hint">Changes apply from the next batch.</p>
        <SubscriptionForm action={base} values={props.values} errors={props.errors} csrf={csrf} maxEventsLimit={props.maxEventsLimit} submitLabel="Save" catalog={props.catalog} />
      </section>
    </>
  );
}

/** A signing secret, shown once: after a subscription is created, and after a rotation. */
export function SecretPage({ subscriptionId, secret, heading, previousUntil }: { subscriptionId: string; secret: string; heading: string; previousUntil?: string | null }) {
  return (
    <>
      <h1>{heading}</h1>
      <p class="notice" role="status">Copy this signing secret now: Depo shows it only this once.</p>
      <p><label for="signing-secret">Signing secret</label></p>
      <pre class="secret" id="signing-secret" tabindex={0}>{secret}</pre>
      <p class="hint">
        Every delivery carries <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> headers
        (Standard Webhooks). Verify them with this secret, using the <code>standardwebhooks</code> library for your language.
      </p>
      {previousUntil && (
        <p>Until <Time iso={previousUntil} />, deliveries carry a second signature made with the previous secret, so you can switch without missing any.</p>
      )}
      <p><a class="button" href={`/portal/subscriptions/${subscriptionId}`}>Continue to the subscription</a></p>
    </>
  );
}

export function BatchPage({ batch, csrf, notice }: { batch: BatchDetail; csrf: string; notice?: string }) {
  return (
    <>
      <p><a href={`/portal/subscriptions/${batch.subscriptionId}`}>← Its subscription</a></p>
      <h1>Batch {batch.batchId}</h1>
      <Notice text={notice} />
      <dl class="facts">
        <dt>Status</dt><dd><Status status={batch.status} /></dd>
        <dt>Events</dt><dd>{batch.eventCount}</dd>
        <dt>Created</dt><dd><Time iso={batch.createdAt} /></dd>
        <dt>Attempts</dt><dd>{batch.attempts}</dd>
        {batch.nextAttemptAt && <><dt>Next attempt</dt><dd><Time iso={batch.nextAttemptAt} /></dd></>}
        {batch.deliveredAt && <><dt>Delivered</dt><dd><Time iso={batch.deliveredAt} /></dd></>}
        {batch.lastError && <><dt>Last error</dt><dd class="error-text">{batch.lastError}</dd></>}
      </dl>
      {batch.status === 'failed' && <ActionButton action={`/portal/batches/${batch.batchId}/redeliver`} csrf={csrf} label="Redeliver" />}
      <h2>Payload</h2>
      <p class="hint">Every attempt sends exactly these bytes (shown indented here).</p>
      <pre class="payload" tabindex={0}>{JSON.stringify(batch.payload, null, 2)}</pre>
    </>
  );
}
