import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appFromPackageJson, entryOfCommand } from '../../extension/app/app-from-package';

test('the start script names the entry, whatever runs it', () => {
  const cases: [string, string | undefined][] = [
    ['node server.js', 'server.js'],
    ['node --inspect --enable-source-maps src/index.js --port 3000', 'src/index.js'],
    ['nodemon app.ts', 'app.ts'],
    ['tsx watch src/main.ts', 'src/main.ts'],
    ['NODE_ENV=production node dist/server.mjs && echo done', 'dist/server.mjs'],
    ['/usr/local/bin/node bin/www', 'bin/www'],
    ['next start', undefined],
    ['node -e "require(1)"', undefined],
    ['node -r dotenv/config server.js', 'server.js'],
  ];
  for (const [command, entry] of cases) assert.equal(entryOfCommand(command), entry, command);
});

test('package.json: the start script first, then main, else nothing', () => {
  assert.equal(appFromPackageJson({ main: 'index.js', scripts: { start: 'node server.js' } }), 'server.js');
  assert.equal(appFromPackageJson({ main: 'index.js', scripts: { start: 'next start' } }), 'index.js');
  assert.equal(appFromPackageJson({ main: 'lib/app.js' }), 'lib/app.js');
  assert.equal(appFromPackageJson({ scripts: { test: 'node --test' } }), undefined);
  assert.equal(appFromPackageJson({ main: 42 }), undefined);
});
