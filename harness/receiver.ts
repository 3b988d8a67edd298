import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  sha256: string;
  receivedAt: number;
  /** The common name of the client certificate presented, over HTTPS. */
  clientCertCn?: string;
}

/** What the receiver does with a request: a status, a full answer, or misbehaviour. */
export type Reply =
  | number
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Drops the connection with a TCP reset. */
  | 'reset'
  /** Never answers. */
  | 'hang'
  /** Answers 200 and the start of a body, then stalls. */
  | 'stall-body'
  /** Answers 200 and the start of a body, then drops the connection. */
  | 'half-body';

/** Decides the reply to each request; the default answers 200. */
export type Responder = (request: ReceivedRequest, index: number) => Reply;

/**
 * A real local webhook receiver (HTTP, or HTTPS with the given certificates) that records every
 * request it gets, so tests assert on what a partner would see. With `keep: false` it records
 * nothing and only answers (the benchmark's LoadReceiver, below, counts what it needs).
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  responder: Responder = () => 200;
  /** Awaited before each reply: lets a test note, say, Temporal's clock at every attempt. */
  onRequest: ((request: ReceivedRequest) => Promise<void> | void) | undefined;
  private server!: Server;

  private keep = true;

  static async start(options: { https?: HttpsOptions; keep?: boolean } = {}): Promise<Receiver> {
    const receiver = new Receiver();
    receiver.keep = options.keep ?? true;
    const handler = receiver.handle.bind(receiver);
    receiver.server = options.https ? createHttpsServer(options.https, handler) : createServer(handler);
    receiver.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.scheme = options.https ? 'https' : 'http';
    return receiver;
  }

  private scheme = 'http';

  /** Swaps the HTTPS server's certificate for new connections (a TLS failure, or its repair). */
  useCertificate(options: import('node:tls').SecureContextOptions): void {
    (this.server as import('node:https').Server).setSecureContext(options);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook', host = '127.0.0.1'): string {
    return `${this.scheme}://${host}:${this.port}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: raw.toString('utf8'),
        // Computed when read: the benchmark's receiver never reads it.
        get sha256() {
          return createHash('sha256').update(raw).digest('hex');
        },
        receivedAt: Date.now(),
      };
      const socket = req.socket as import('node:tls').TLSSocket;
      if (typeof socket.getPeerCertificate === 'function') {
        const cn = socket.getPeerCertificate()?.subject?.CN;
        if (cn) request.clientCertCn = Array.isArray(cn) ? cn.join(',') : cn;
      }
      const index = this.keep ? this.requests.push(request) - 1 : -1;
      void Promise.resolve(this.onRequest?.(request)).then(() => this.reply(this.responder(request, index), req, res));
    });
  }

  private reply(reply: Reply, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    if (reply === 'reset') {
      // A TLS socket has no TCP handle of its own to reset: it is dropped instead.
      if ('encrypted' in req.socket) req.socket.destroy();
      else req.socket.resetAndDestroy();
      return;
    }
    if (reply === 'hang') return;
    if (reply === 'half-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('the first few bytes', () => req.socket.destroy());
      return;
    }
    if (reply === 'stall-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('the first few bytes');
      return;
    }
    const { status, headers = {}, body } = typeof reply === 'number' ? { status: reply } : reply;
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body ?? (status >= 200 && status < 300 ? 'ok' : `refused with ${status}`));
  }
}

/**
 * The receiver under load (the benchmark): answers 200 at once, or 500 for a share `failRatio` of
 * requests, and notes when each event first arrived, keeping no request.
 */
export class LoadReceiver {
  readonly arrivals = new Map<string, number>();
  requests = 0;
  failed = 0;
  failRatio = 0;

  private constructor(private readonly receiver: Receiver) {}

  static async start(): Promise<LoadReceiver> {
    const load = new LoadReceiver(await Receiver.start({ keep: false }));
    load.receiver.responder = (request) => load.answer(request);
    return load;
  }

  get port(): number {
    return this.receiver.port;
  }

  url(path = '/hook'): string {
    return this.receiver.url(path);
  }

  reset(): void {
    this.arrivals.clear();
    this.requests = 0;
    this.failed = 0;
    this.failRatio = 0;
  }

  close(): Promise<void> {
    return this.receiver.close();
  }

  private answer(request: ReceivedRequest): Reply {
    this.requests++;
    if (this.failRatio > 0 && Math.random() < this.failRatio) {
      this.failed++;
      return { status: 500, body: 'injected failure' };
    }
    const now = request.receivedAt;
    // A batch of ours ({ events: [...] }), or one event as a peer without batching sends it.
    const body = JSON.parse(request.body) as { events: { id: string }[] } | { id: string };
    for (const event of 'events' in body ? body.events : [body]) if (!this.arrivals.has(event.id)) this.arrivals.set(event.id, now);
    return 200;
  }
}
