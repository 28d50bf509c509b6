/**
 * A TypeScript app means what its tsconfig says and loads what it loads at run time, as under
 * ts-node or tsx: decorator metadata where the tsconfig asks for it (constructor injection, as
 * NestJS does it), and `.ts` files imported or required by path while the app runs (as
 * @fastify/autoload and ORM entity globs do), with stacks at their `.ts` lines.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get } from '../support/http';
import { startArbiter } from '../support/arbiter-run';

function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ts-semantics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Just enough of reflect-metadata for TypeScript's __metadata calls and a container to read them. */
const REFLECT = `
const store = new WeakMap<object, Map<string, unknown>>();
const R = Reflect as any;
R.metadata = (key: string, value: unknown) => (target: object) => {
  if (!store.has(target)) store.set(target, new Map());
  store.get(target)!.set(key, value);
};
R.getMetadata = (key: string, target: object) => store.get(target)?.get(key);
export {};
`;

const INJECTION = {
  'reflect.ts': REFLECT,
  'container.ts': [
    `import './reflect';`,
    `export const Injectable = (): ClassDecorator => () => {};`,
    `export function resolve<T>(type: new (...args: any[]) => T): T {`,
    `  // As Nest's injector does: a class with no constructor has no paramtypes, and needs nothing.`,
    `  const params: (new () => unknown)[] = (Reflect as any).getMetadata('design:paramtypes', type) ?? [];`,
    `  return new type(...params.map((param) => resolve(param)));`,
    `}`,
  ].join('\n'),
  'service.ts': [
    `import { Injectable } from './container';`,
    `@Injectable()`,
    `export class GreetingService {`,
    `  greet(): string { return 'hello through constructor injection'; }`,
    `}`,
  ].join('\n'),
  'server.ts': [
    `import http from 'node:http';`,
    `import { Injectable, resolve } from './container';`,
    `import { GreetingService } from './service';`,
    `@Injectable()`,
    `class Controller {`,
    `  constructor(private readonly service: GreetingService) {}`,
    `  handle(): string { return this.service.greet(); }`,
    `}`,
    `http.createServer((q, s) => {`,
    `  if (q.url === '/stack') return s.end(new Error('where').stack);`,
    `  try { s.end(resolve(Controller).handle()); } catch (e) { s.statusCode = 500; s.end(String(e)); }`,
    `}).listen(process.env.PORT);`,
  ].join('\n'),
};

test('a tsconfig with emitDecoratorMetadata gets decorator metadata: constructor injection works', async (t) => {
  const dir = project(t, {
    ...INJECTION,
    'tsconfig.json': JSON.stringify({
      // Comments and `extends`, as real tsconfigs have them.
      extends: './tsconfig.base.json',
      compilerOptions: { target: 'ES2021' },
    }),
    'tsconfig.base.json': `{\n  // what Nest's starter sets\n  "compilerOptions": { "experimentalDecorators": true, "emitDecoratorMetadata": true }\n}\n`,
  });
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], { cwd: dir });
  await run.ready(1);
  const port = await run.port();
  const response = await get(port);
  assert.equal(response.body, 'hello through constructor injection');
  assert.equal(response.status, 200);
  // swc's map is chained into the bundle's: the stack names the .ts line.
  assert.match(
    (await get(port, '/stack')).body,
    new RegExp(`${join(dir, 'server.ts').replace(/\./g, '\\.')}:10:\\d+`),
  );
});

/** Two modules each declaring a class of the same name, as a Nest app's modules often do. */
const SAME_NAMES = {
  ...INJECTION,
  'admin/controller.ts': [
    `import { Injectable } from '../container';`,
    `@Injectable()`,
    `export class Controller {}`,
  ].join('\n'),
  'server.ts': [
    `import http from 'node:http';`,
    `import { Injectable } from './container';`,
    `import { GreetingService } from './service';`,
    `import { Controller as AdminController } from './admin/controller';`,
    `@Injectable()`,
    `class Controller {`,
    `  constructor(private readonly service: GreetingService) {}`,
    `}`,
    `// Nest's logger contexts and tokens by name read these.`,
    `const params = (Reflect as any).getMetadata?.('design:paramtypes', Controller) ?? [];`,
    `const names = [Controller.name, AdminController.name, GreetingService.name, ...params.map((p: Function) => p.name)];`,
    `http.createServer((q, s) => {`,
    `  if (q.url === '/stack') return s.end(new Error('where').stack);`,
    `  s.end(JSON.stringify(names));`,
    `}).listen(process.env.PORT);`,
  ].join('\n'),
};

for (const [label, compilerOptions, expected] of [
  [
    'with emitDecoratorMetadata (swc)',
    { experimentalDecorators: true, emitDecoratorMetadata: true },
    ['Controller', 'Controller', 'GreetingService', 'GreetingService'],
  ],
  [
    'without (esbuild alone)',
    { experimentalDecorators: true },
    ['Controller', 'Controller', 'GreetingService'],
  ],
] as const) {
  test(`classes keep their names when two modules declare the same one, ${label}`, async (t) => {
    const dir = project(t, { ...SAME_NAMES, 'tsconfig.json': JSON.stringify({ compilerOptions }) });
    const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], { cwd: dir });
    await run.ready(1);
    const port = await run.port();
    assert.deepEqual(JSON.parse((await get(port)).body), expected);
    // The map still points at the .ts line.
    assert.match(
      (await get(port, '/stack')).body,
      new RegExp(`${join(dir, 'server.ts').replace(/\./g, '\\.')}:13:\\d+`),
    );
  });
}

test('decorator metadata: a save transforms only the file that changed, a save that changed nothing none, and a changed decorator is served', async (t) => {
  const dir = project(t, {
    ...INJECTION,
    'tsconfig.json': JSON.stringify({
      compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true },
    }),
    'greeting.ts': [
      `import { Injectable } from './container';`,
      `export const Greeting = (text: string): ClassDecorator => (target: any) => { target.greeting = text; };`,
      `@Injectable()`,
      `@Greeting('first')`,
      `export class Greeter {}`,
    ].join('\n'),
    'service.ts': [
      `import { Injectable } from './container';`,
      `import { Greeter } from './greeting';`,
      `@Injectable()`,
      `export class GreetingService {`,
      `  constructor(private readonly greeter: Greeter) {}`,
      `  greet(): string { return (this.greeter.constructor as any).greeting + ' v1'; }`,
      `}`,
    ].join('\n'),
  });
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', 'server.ts'], { cwd: dir });
  await run.ready(1);
  await run.waitFor('watcher.ready');
  const port = await run.port();
  assert.equal((await get(port)).body, 'first v1', 'injected through the metadata of two files');
  // The swc transforms each build ran anew (the boot profile's `transformed`): the others
  // came from the cache, by content.
  const transformedBy = async (file: string, edit: (text: string) => string) => {
    writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
    const completed = await run.waitForNext('reload', (e) => e.phase !== 'triggered');
    assert.equal(completed.phase, 'completed', JSON.stringify(completed.error));
    return completed.profile?.transformed;
  };
  assert.equal(await transformedBy('service.ts', (text) => text.replace('v1', 'v2')), 1);
  assert.equal((await get(port)).body, 'first v2');
  assert.equal(await transformedBy('service.ts', (text) => text), 0, 'written again unchanged');
  assert.equal(await transformedBy('greeting.ts', (text) => text.replace("'first'", "'second'")), 1);
  assert.equal((await get(port)).body, 'second v2', 'the changed decorator serves');
});

test('.ts files imported and required by path at run time load, with stacks at their .ts lines', async (t) => {
  const dir = project(t, {
    'routes/hello.ts': [
      `type Greeting = { text: string };`,
      `const greeting: Greeting = { text: 'hello from a route loaded at run time' };`,
      `export default function hello(): string {`,
      `  return greeting.text;`,
      `}`,
      `export function fail(): string {`,
      `  throw new Error('thrown in a route');`,
      `}`,
    ].join('\n'),
    'lib/util.ts': `export const shout = (text: string): string => text.toUpperCase();\n`,
    'server.ts': [
      `import http from 'node:http';`,
      `import { join } from 'node:path';`,
      `// Paths computed at run time: no bundler can see them, as with @fastify/autoload.`,
      `const at = (...parts: string[]) => join(__dirname, ...parts);`,
      `http.createServer(async (q, s) => {`,
      `  try {`,
      `    const route = await import(at('routes', 'hello.ts'));`,
      `    const { shout } = require(at('lib', 'util.ts'));`,
      `    s.end(q.url === '/fail' ? route.fail() : shout(route.default()));`,
      `  } catch (e) { s.statusCode = 500; s.end((e as Error).stack); }`,
      `}).listen(process.env.PORT);`,
    ].join('\n'),
  });
  const run = startArbiter(t, ['-w', '1', '-b', '127.0.0.1:0', '--no-reload', 'server.ts'], { cwd: dir });
  await run.ready(1);
  const port = await run.port();
  assert.equal((await get(port)).body, 'HELLO FROM A ROUTE LOADED AT RUN TIME');
  const failed = await get(port, '/fail');
  assert.equal(failed.status, 500);
  assert.match(failed.body, new RegExp(`${join(dir, 'routes', 'hello.ts').replace(/\./g, '\\.')}:7:\\d+`));
});

test('decorator metadata asked for, and no swc that works here: one line that says what and what to do, exit 2', async (t) => {
  const dir = project(t, {
    ...INJECTION,
    'tsconfig.json': JSON.stringify({
      compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true },
    }),
  });
  // swc's own override for where its native binary is: one that is not there.
  const run = startArbiter(t, ['-w', '1', '--no-reload', 'server.ts'], {
    cwd: dir,
    env: { SWC_BINARY_PATH: join(dir, 'missing.node') },
  });
  assert.equal((await run.waitExit()).code, 2);
  assert.match(
    run.output,
    /tsconfig\.json sets emitDecoratorMetadata, which the arbiter compiles with @swc\/core, and it cannot be loaded here/,
  );
  assert.equal(run.output.trim().split('\n').length, 1, run.output);
});
