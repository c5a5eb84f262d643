/**
 * The demo's status page: its token, its buttons, and the demo-only route that makes
 * the loopback StopForumSpam fake fail or answer again, so a newcomer can watch a
 * breaker open and verdicts degrade.
 */
import { randomBytes } from 'node:crypto';
import { tokenCheck } from '@formsecurity/core';
import type { StatusEndpointOptions, StatusRequest } from '@formsecurity/core';
import type { StopForumSpamFake } from '@formsecurity/testing';

export const STATUS_PATH = '/formsecurity/status';
export const HEALTH_PATH = '/formsecurity/health';
export const FAULT_PATH = '/demo/fault';

/** What the fault route answers; `location` means a 303 redirect there. */
export interface FaultAnswer {
  readonly status: number;
  readonly location?: string;
  readonly body: string;
}

export interface DemoStatus {
  readonly token: string;
  /** Whether the token came from FORMSECURITY_STATUS_TOKEN (then it is never printed). */
  readonly tokenFromEnv: boolean;
  /** Options of the status page and the health endpoint. */
  readonly options: StatusEndpointOptions;
  /** The status page's address with its token. */
  readonly pageUrl: string;
  /** Handles `POST /demo/fault?mode=down|up&token=…`, then sends the browser back to the status page. */
  fault(request: StatusRequest): FaultAnswer;
}

export function demoStatus(fake: StopForumSpamFake | undefined, env: NodeJS.ProcessEnv): DemoStatus {
  const configured = env['FORMSECURITY_STATUS_TOKEN'] || undefined;
  const token = configured ?? randomBytes(18).toString('base64url');
  const authorized = tokenCheck(token, 'FORMSECURITY_STATUS_TOKEN');
  const query = `token=${encodeURIComponent(token)}`;
  const pageUrl = `${STATUS_PATH}?${query}`;
  const actions =
    fake === undefined
      ? []
      : [
          { label: 'Make StopForumSpam fail', href: `${FAULT_PATH}?mode=down&${query}` },
          { label: 'Make StopForumSpam answer again', href: `${FAULT_PATH}?mode=up&${query}` },
        ];
  return {
    token,
    tokenFromEnv: configured !== undefined,
    pageUrl,
    options: { token, title: 'FormSecurity demo — status', refreshSeconds: 2, actions },
    fault(request) {
      if (!authorized(request)) return { status: 401, body: 'unauthorized' };
      if (fake === undefined) return { status: 409, body: 'the demo uses the real StopForumSpam: nothing to break' };
      const mode = new URLSearchParams(request.url.split('?')[1] ?? '').get('mode');
      if (mode === 'down') fake.faults.inject({ kind: 'status', status: 503 });
      else if (mode === 'up') fake.faults.clear();
      else return { status: 400, body: 'mode: expected down or up' };
      return { status: 303, location: pageUrl, body: '' };
    },
  };
}
