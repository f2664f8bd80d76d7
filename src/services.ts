import type { Users } from './accounts/users';
import type { DatabaseHandle } from './db/connect';
import type { Logger } from './logger';
import type { SystemConfig } from './settings/system-config';

/** What handlers work with: built once at start by `createServices`, passed down, never global. */
export interface Services {
  database: DatabaseHandle;
  systemConfig: SystemConfig;
  users: Users;
  logger: Logger;
  spec: Record<string, any>;
  version: string;
  startedAt: Date;
}
