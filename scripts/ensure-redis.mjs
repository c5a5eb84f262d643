#!/usr/bin/env node
// Makes sure a Redis answers on 127.0.0.1:6379 before the tests run: the shared-Redis
// suites need one. Starts a throw-away redis-server (no persistence) when none answers.
import { spawnSync } from 'node:child_process';
import net from 'node:net';

const PORT = Number(process.env.FORMSECURITY_TEST_REDIS_PORT ?? 6379);

function ping() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: PORT });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

if (await ping()) process.exit(0);
console.log(`ensure-redis: nothing answers on 127.0.0.1:${PORT}, starting redis-server`);
const started = spawnSync(
  'redis-server',
  ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(PORT), '--save', '', '--appendonly', 'no'],
  { stdio: 'inherit' },
);
if (started.error) {
  console.error('ensure-redis: redis-server is not installed (Debian: apt-get install redis-server)');
  process.exit(1);
}
for (let i = 0; i < 50; i++) {
  if (await ping()) process.exit(0);
  await new Promise((r) => setTimeout(r, 100));
}
console.error(`ensure-redis: redis-server did not answer on port ${PORT}`);
process.exit(1);
