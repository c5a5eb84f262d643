/**
 * A tiny upstream on 127.0.0.1 that records every request it receives: which instance
 * sent it and when. `/429` answers 429 with `Retry-After: 2`; everything else 200.
 */

import { createServer, type Server } from 'node:http';

export interface Arrival {
  readonly instance: string;
  readonly path: string;
  readonly atMs: number;
}

export class CountingServer {
  readonly arrivals: Arrival[] = [];
  readonly #server: Server;
  #port = 0;

  private constructor() {
    this.#server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      this.arrivals.push({ instance: url.searchParams.get('instance') ?? '?', path: url.pathname, atMs: Date.now() });
      if (url.pathname === '/429') {
        response.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
        response.end('{"error":"rate_limit_exceeded"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
  }

  static async start(): Promise<CountingServer> {
    const counting = new CountingServer();
    await new Promise<void>((resolve) => counting.#server.listen(0, '127.0.0.1', resolve));
    const address = counting.#server.address();
    counting.#port = typeof address === 'object' && address !== null ? address.port : 0;
    return counting;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  count(filter: (arrival: Arrival) => boolean = () => true): number {
    return this.arrivals.filter(filter).length;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
