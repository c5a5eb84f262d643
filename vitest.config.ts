import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (name: string): string =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit and cross-package suites run against the sources; test/consumer imports the built packages.
    alias: {
      '@formsecurity/testing/contract': fileURLToPath(new URL('./packages/testing/src/contract-suite.ts', import.meta.url)),
      '@formsecurity/core': source('core'),
      '@formsecurity/providers': source('providers'),
      '@formsecurity/testing': source('testing'),
      '@formsecurity/express': source('express'),
      '@formsecurity/koa': source('koa'),
      '@formsecurity/nest': source('nest'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Suites that assert on log lines pass their own logger; the default one stays quiet.
    env: { FORMSECURITY_LOG_LEVEL: 'silent' },
  },
});
