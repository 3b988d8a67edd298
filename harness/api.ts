import type { Client } from '@temporalio/client';
import { createApp } from '../api/app';
import type { Config } from '../platform/config';
import { HARNESS_TOKEN } from './token';


export interface ApiAnswer {
  status: number;
  contentType: string | null;
  /** The answer's JSON, read as the contract shapes it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests and tools read answers by the contract's field names
  json: any;
}

/** The real Hono app over a real Temporal client, called in-process with `app.request`. */
export function apiFor(client: Client, config: Config) {
  const app = createApp({ client, config, tokens: [{ role: 'admin', token: HARNESS_TOKEN }] });
  return async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const response = await app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${HARNESS_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      json: text ? (JSON.parse(text) as unknown) : undefined,
    };
  };
}
