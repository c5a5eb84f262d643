#!/usr/bin/env node
// Typechecks every ```ts block of README.md and the package READMEs, so the
// documentation cannot drift from the code. Blocks that are fragments use ```text.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.snippets');
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

const readmes = ['README.md', ...readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'README.md'))];
const files = [];
for (const readme of readmes) {
  if (!existsSync(join(root, readme))) continue;
  const text = readFileSync(join(root, readme), 'utf8');
  let index = 0;
  for (const match of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = `${readme.replace(/[\\/]/g, '_').replace(/\.md$/, '')}_${++index}.ts`;
    // Each snippet is its own module.
    writeFileSync(join(out, name), `${match[1]}\nexport {};\n`);
    files.push(name);
  }
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: { noUnusedLocals: false, baseUrl: '..' },
    include: ['*.ts'],
  }),
);
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(out, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  console.log(`check-snippets: ${files.length} README snippets typecheck`);
} catch {
  console.error('check-snippets: a README snippet does not typecheck (files in .snippets/)');
  process.exit(1);
}
