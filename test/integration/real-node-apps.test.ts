/**
 * Generated Fastify (TypeScript, run through fastify-cli), Express, Koa and Hono projects under
 * the arbiter, unchanged: each starts, serves its real path, takes edits live with 0 failed
 * requests under load, and stops with exit 0.
 */
import { test } from 'node:test';
import { checkRealApp } from '../support/real-app-checks';
import { realApp } from '../support/real-apps';

test('Fastify (fastify-cli generate --lang=ts), run by its own CLI on the TypeScript source: autoloaded .ts plugins and routes, hooks by name', async (t) => {
  await checkRealApp(t, {
    dir: realApp('fastify-ts'),
    args: ['node_modules/fastify-cli/cli.js', 'start', '-l', 'info', 'src/app.ts'],
    path: '/example',
    answers: /^this is an example$/,
    edit: { file: 'src/routes/example/index.ts', from: `'this is an example'`, to: `'an edited example'` },
    answersAfter: /^an edited example$/,
    preloaded: true,
    hooks: [/^fastify onClose/],
  });
});

test('Express (express-generator), bin/www as npm start runs it', async (t) => {
  await checkRealApp(t, {
    dir: realApp('express'),
    args: ['bin/www'],
    path: '/users',
    answers: /^respond with a resource$/,
    edit: { file: 'routes/users.js', from: `'respond with a resource'`, to: `'edited users'` },
    answersAfter: /^edited users$/,
    preloaded: true,
  });
});

test("Koa, in the shape of Koa's examples (module.parent decides it listens)", async (t) => {
  await checkRealApp(t, {
    dir: realApp('koa'),
    args: ['app.js'],
    path: '/',
    answers: /^Hello Koa$/,
    edit: { file: 'app.js', from: `'Hello Koa'`, to: `'Hello edited Koa'` },
    answersAfter: /^Hello edited Koa$/,
    preloaded: true,
  });
});

test("Hono on Node (create-hono's nodejs template: ES modules, TypeScript, a hard-coded port 3000)", async (t) => {
  await checkRealApp(t, {
    dir: realApp('hono'),
    args: ['src/index.ts'],
    path: '/',
    answers: /^Hello Hono!$/,
    edit: { file: 'src/index.ts', from: `'Hello Hono!'`, to: `'Hello edited Hono!'` },
    answersAfter: /^Hello edited Hono!$/,
    preloaded: true,
  });
});
