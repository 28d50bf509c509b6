/** The official NestJS starter (Nest 12, ES modules), unchanged but for a shutdown hook. */
import { test } from 'node:test';
import { checkRealApp } from '../support/real-app-checks';
import { realApp } from '../support/real-apps';

test('NestJS starter: constructor injection serves GET /, edits go live, 0 failed over reloads under load, each provider hook by name, TERM exits 0', async (t) => {
  await checkRealApp(t, {
    dir: realApp('nest'),
    args: ['src/main.ts'],
    path: '/',
    answers: /^Hello World!$/,
    edit: { file: 'src/app.service.ts', from: `'Hello World!'`, to: `'Hello from an edit!'` },
    answersAfter: /^Hello from an edit!$/,
    preloaded: true,
    hooks: ['Nest onModuleDestroy AppService'],
  });
});
