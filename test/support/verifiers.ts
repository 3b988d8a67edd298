import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import type { SignatureHeaders } from '../../domain/signing';
import { root } from '../../harness/processes';

/**
 * Standard Webhooks verifiers nobody here wrote: the `standardwebhooks` npm package, and the
 * `standardwebhooks` package from PyPI (installed by scripts/install/setup.sh into .tools/python).
 */
export interface SignedRequest {
  secret: string;
  body: string;
  headers: SignatureHeaders;
}

/** True, or why the npm package refused it. */
export function verifyWithNpm({ secret, body, headers }: SignedRequest): true | string {
  try {
    new Webhook(secret).verify(body, { ...headers });
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

export const PYTHON_VERIFIER_PATH = join(root, '.tools/python');

/** For each request: true, or why the Python package refused it. */
export async function verifyWithPython(requests: SignedRequest[]): Promise<(true | string)[]> {
  if (!existsSync(join(PYTHON_VERIFIER_PATH, 'standardwebhooks'))) throw new Error(`${PYTHON_VERIFIER_PATH} has no standardwebhooks: scripts/install/setup.sh installs it (pip install --target)`);
  const child = promisify(execFile)('python3', [join(root, 'test/support/verify_standard_webhooks.py')], { env: { ...process.env, PYTHONPATH: PYTHON_VERIFIER_PATH } });
  child.child.stdin!.end(JSON.stringify({ checks: requests }));
  const { stdout } = await child;
  return (JSON.parse(stdout) as { results: (true | string)[] }).results;
}

/** The three Standard Webhooks headers of a received request. */
export function signatureHeadersOf(headers: Record<string, string | string[] | undefined>): SignatureHeaders {
  const pick = (name: string) => String(headers[name] ?? '');
  return { 'webhook-id': pick('webhook-id'), 'webhook-timestamp': pick('webhook-timestamp'), 'webhook-signature': pick('webhook-signature') };
}
