import type { INestApplication } from '@nestjs/common';
import { createStatusEndpoints } from '@formsecurity/core';
import type { Gate, StatusEndpointOptions, StatusRequest, StatusResponse } from '@formsecurity/core';
import { FORM_SECURITY_GATE } from './constants.js';

export interface StatusMountOptions extends StatusEndpointOptions {
  /** Path of the JSON health endpoint (default `/formsecurity/health`); `false` leaves it off. */
  readonly healthPath?: string | false;
  /** Path of the HTML status page (default `/formsecurity/status`); `false` leaves it off. */
  readonly statusPath?: string | false;
}

/** The request and response of the Express or Fastify platform, as far as this reads them. */
interface PlatformRequest {
  readonly url?: string;
  readonly originalUrl?: string;
  readonly headers: StatusRequest['headers'];
}

/**
 * Mounts the health endpoint and the status page of the module's engine on the
 * application's HTTP adapter (Express or Fastify). They sit beside Nest's router, so no
 * guard runs on them; both ask for the token. Call it after `NestFactory.create` and
 * before `app.listen()`.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * mountFormSecurityStatus(app, { token: process.env.FORMSECURITY_STATUS_TOKEN! });
 * await app.listen(3000);
 */
export function mountFormSecurityStatus(app: INestApplication, options: StatusMountOptions): void {
  const { engine } = app.get<Gate>(FORM_SECURITY_GATE);
  const endpoints = createStatusEndpoints(engine, options);
  const http = app.getHttpAdapter();
  const mount = (path: string | false, answer: (request: StatusRequest) => Promise<StatusResponse>): void => {
    if (path === false) return;
    http.get(path, (req: PlatformRequest, res: unknown) => {
      answer({ url: req.originalUrl ?? req.url ?? path, headers: req.headers }).then(
        ({ status, headers, body }) => {
          for (const [name, value] of Object.entries(headers)) http.setHeader(res, name, value);
          http.reply(res, body, status);
        },
        () => http.reply(res, '', 500),
      );
    });
  };
  mount(options.healthPath ?? '/formsecurity/health', endpoints.health);
  mount(options.statusPath ?? '/formsecurity/status', endpoints.page);
}
