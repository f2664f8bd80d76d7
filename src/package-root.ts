import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder holding package.json, spec/ and node_modules: the repository when run from source, and the
 * same folder when run compiled from dist/ (dist has no package.json of its own).
 */
export const packageRoot: string = (() => {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
  }
})();

export const packageVersion = (): string => JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version;
