import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { packageRoot } from '../package-root.js';

export const specPath = path.join(packageRoot, 'spec', 'openapi.yaml');

/** The contract, parsed once: the router, the validator and `GET /openapi.json` all use this object. */
export function loadSpec(): Record<string, any> {
  return YAML.parse(fs.readFileSync(specPath, 'utf8'));
}
