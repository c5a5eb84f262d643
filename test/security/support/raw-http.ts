/**
 * Sends a request exactly as written over a plain socket, so a test controls every byte
 * of its headers (no client library normalises or refuses them), and reads the status.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** Everything after the status line (headers and body), as latin1 text. */
  readonly rest: string;
  readonly elapsedMs: number;
}

/**
 * Builds the bytes of a request: header lines as latin1 (one byte per character, as
 * they go on the wire), the body as UTF-8 with a matching Content-Length.
 */
export function requestBytes(path: string, headers: readonly (readonly [string, string])[], body: string, contentType: string): Buffer {
  const bytes = Buffer.byteLength(body, 'utf8');
  const lines = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Content-Type: ${contentType}`,
    `Content-Length: ${bytes}`,
    'Connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body, 'utf8')]);
}

export function rawRequest(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const answer = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      if (match === null) {
        reject(new Error(`connection closed without an HTTP answer (${answer.length} bytes)`));
        return;
      }
      resolve({ status: Number(match[1]), rest: answer.slice(match[0].length), elapsedMs: performance.now() - started });
    });
    socket.write(bytes);
  });
}
