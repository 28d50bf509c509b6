/**
 * The big project of bench/big-tree.ts: 20,000 small CommonJS modules under src/, 20,000 files
 * under node_modules (200 packages × 100 files) and a hello-world app.js. The modules are never
 * loaded: the tree is there for the watchers to walk, as in a real project of that size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROJECT_FOLDERS = 200;
export const MODULES_PER_FOLDER = 100;
export const PACKAGES = 200;
export const FILES_PER_PACKAGE = 100;

/** The app every runner serves; an edit rewrites it with the next version. */
export const bigTreeApp = (version: number): string => `// bench/big-tree.ts: hello world, version ${version}
const http = require('node:http');
http
  .createServer((request, response) => response.end('hello v${version}'))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

function writeProjectModules(dir: string): void {
  for (let d = 0; d < PROJECT_FOLDERS; d++) {
    const folder = join(dir, 'src', `d${d}`);
    mkdirSync(folder, { recursive: true });
    for (let m = 0; m < MODULES_PER_FOLDER; m++) {
      const next = m + 1 < MODULES_PER_FOLDER ? `require('./m${m + 1}')` : 'null';
      writeFileSync(
        join(folder, `m${m}.js`),
        `'use strict';\nexports.name = 'd${d}/m${m}';\nexports.next = () => ${next};\n`,
      );
    }
  }
}

/** Each package: package.json, index.js and 98 modules in lib/. */
function writePackages(dir: string): void {
  for (let p = 0; p < PACKAGES; p++) {
    const pkg = join(dir, 'node_modules', `pkg${p}`);
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `pkg${p}`, version: '1.0.0' }) + '\n');
    writeFileSync(join(pkg, 'index.js'), `'use strict';\nmodule.exports = require('./lib/f0');\n`);
    for (let f = 0; f < FILES_PER_PACKAGE - 2; f++) {
      writeFileSync(join(pkg, 'lib', `f${f}.js`), `'use strict';\nmodule.exports = 'pkg${p}/f${f}';\n`);
    }
  }
}

/** Writes the whole tree into `dir` (which exists and is empty). */
export function createBigTree(dir: string): { projectFiles: number; nodeModulesFiles: number } {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'big-tree', private: true }) + '\n');
  writeFileSync(join(dir, 'app.js'), bigTreeApp(1));
  writeProjectModules(dir);
  writePackages(dir);
  return {
    projectFiles: PROJECT_FOLDERS * MODULES_PER_FOLDER,
    nodeModulesFiles: PACKAGES * FILES_PER_PACKAGE,
  };
}
