import type { KsefEnvironmentName } from '../config';
import type { KsefApi } from './api';
import type { TokenManager } from './auth';
import { KsefRejectedError } from './errors';

/** KSeF calls made with the company's access token; a 401 triggers one refresh and one retry. */
export class KsefClient {
  constructor(
    readonly apis: Record<KsefEnvironmentName, KsefApi>,
    readonly tokens: TokenManager,
  ) {}

  async call<T>(companyId: string, environment: KsefEnvironmentName, fn: (api: KsefApi, bearer: string) => Promise<T>): Promise<T> {
    const api = this.apis[environment];
    const token = await this.tokens.accessToken(companyId, environment);
    try {
      return await fn(api, token.token);
    } catch (err) {
      if (!(err instanceof KsefRejectedError && err.httpStatus === 401)) throw err;
      await this.tokens.invalidate(companyId, environment, token);
      const renewed = await this.tokens.accessToken(companyId, environment);
      return fn(api, renewed.token);
    }
  }
}
