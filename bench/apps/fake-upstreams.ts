/**
 * Loopback fakes of three services in a process of their own, each answering after a
 * fixed latency, so that their work does not run on the event loop being measured (a
 * real provider's does not either):
 *
 *   node --import tsx bench/apps/fake-upstreams.ts <sfs ms> <abuseipdb ms> <ip-api ms>
 *
 * Announces `READY {"stopForumSpam": url, "abuseIpdb": {url, key}, "ipApi": url}`.
 */
import { startFakeAbuseIpdb, startFakeIpApi, startFakeStopForumSpam } from '@formsecurity/testing';
import { announceReady, onTermination } from '../lib/child.js';

/** Where the fakes listen. */
export interface FakeUpstreams {
  readonly stopForumSpam: string;
  readonly abuseIpdb: { readonly url: string; readonly key: string };
  readonly ipApi: string;
}

async function main(): Promise<void> {
  const latencies = process.argv.slice(2).map(Number);
  if (latencies.length !== 3 || latencies.some((ms) => !(Number.isFinite(ms) && ms >= 0))) {
    throw new Error('usage: fake-upstreams.ts <sfs ms> <abuseipdb ms> <ip-api ms>');
  }
  const [sfsMs, abuseMs, geoMs] = latencies as [number, number, number];
  const sfs = await startFakeStopForumSpam();
  const abuse = await startFakeAbuseIpdb();
  const geo = await startFakeIpApi();
  sfs.faults.latency(sfsMs);
  abuse.faults.latency(abuseMs);
  geo.faults.latency(geoMs);
  // The fake enforces ip-api's free window (45 requests) and never refills it by itself.
  geo.setWindow({ remaining: Number.MAX_SAFE_INTEGER });
  onTermination(async () => {
    await Promise.allSettled([sfs.close(), abuse.close(), geo.close()]);
  });
  const ready: FakeUpstreams = { stopForumSpam: sfs.url, abuseIpdb: { url: abuse.url, key: abuse.key }, ipApi: geo.url };
  announceReady(ready);
}

await main();
