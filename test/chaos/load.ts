/**
 * A paced HTTP load for the chaos suite: a few workers post forms at a steady total
 * rate over keep-alive connections, and every answer (or failure) is recorded.
 */
import { Agent, request } from 'node:http';

/** One submission as the client saw it. */
export interface Answer {
  /** 0 when no HTTP answer came (connection error or client timeout). */
  readonly status: number;
  readonly body: string;
  readonly latencyMs: number;
  /** When it came, in ms since the load started. */
  readonly atMs: number;
  /** Why no answer came, when none did. */
  readonly error?: string;
}

export interface LoadOptions {
  /** Base URL of the app, e.g. `http://127.0.0.1:1234`. */
  readonly url: string;
  readonly path: string;
  /** Submissions per second, over all workers. */
  readonly rate: number;
  readonly workers: number;
  /** The load stops once this settles. */
  readonly until: Promise<void>;
  /** The form and forwarded address of the n-th submission. */
  readonly submission: (n: number) => { readonly form: string; readonly forwardedFor: string };
  /** A request without an answer after this long counts as failed (default 5 s). */
  readonly timeoutMs?: number;
}

function post(agent: Agent, url: URL, form: string, forwardedFor: string, timeoutMs: number, origin: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (answer: Omit<Answer, 'latencyMs' | 'atMs'>): void => {
      const now = performance.now();
      resolve({ ...answer, latencyMs: now - started, atMs: now - origin });
    };
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(form),
          'x-forwarded-for': forwardedFor,
        },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => done({ status: 0, body: '', error: error.message }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', (error) => done({ status: 0, body: '', error: error.message }));
    outgoing.end(form);
  });
}

/**
 * Runs the load until `until` settles, then waits for the submissions in flight and
 * closes its connections. Resolves with every answer, in completion order.
 *
 * @example
 * const answers = await runLoad({ url, path: '/contact', rate: 150, workers: 6, until: sleep(30_000), submission });
 */
export async function runLoad(options: LoadOptions): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.workers });
  const url = new URL(options.path, options.url);
  const answers: Answer[] = [];
  const intervalMs = (options.workers * 1000) / options.rate;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  // Stop on failure too; the caller awaits `until` itself and sees the error.
  void options.until.then(stop, stop);
  let issued = 0;
  const origin = performance.now();
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const started = performance.now();
      const { form, forwardedFor } = options.submission(issued++);
      answers.push(await post(agent, url, form, forwardedFor, options.timeoutMs ?? 5_000, origin));
      const pause = intervalMs - (performance.now() - started);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.workers }, worker));
  } finally {
    agent.destroy();
  }
  return answers;
}
