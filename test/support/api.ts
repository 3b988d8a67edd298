import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import type { Config } from '../../platform/config';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** The real Hono app over a real Temporal client, called in-process with `app.request`. */
export function apiFor(client: Client, config: Config) {
  const app = createApp({ client, config, tokens: [{ role: 'admin', token: TEST_TOKEN }] });
  return async (method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      json: (text ? JSON.parse(text) : undefined),
    };
  };
}
