import type { KsefEnvironmentName } from '../../config.js';
import type { KsefApi } from './api.js';
import type { TokenManager } from './auth.js';
import { KsefPermissionDeniedError, KsefRejectedError, KsefUnavailableError } from '../errors.js';

/** KSeF calls made with the company's access token; a 401 triggers one refresh and one retry. */
export class KsefClient {
  /** Told what each call showed about KSeF's availability (a connection failure or 503, or an answer). */
  observer?: (companyId: string, environment: KsefEnvironmentName, available: boolean) => void;

  constructor(
    readonly apis: Record<KsefEnvironmentName, KsefApi>,
    readonly tokens: TokenManager,
  ) {}

  async call<T>(companyId: string, environment: KsefEnvironmentName, fn: (api: KsefApi, bearer: string) => Promise<T>): Promise<T> {
    try {
      const result = await this.callOnce(companyId, environment, fn);
      this.observer?.(companyId, environment, true);
      return result;
    } catch (err) {
      if (err instanceof KsefUnavailableError) this.observer?.(companyId, environment, false);
      throw await this.attributed(err, companyId, environment);
    }
  }

  /** A missing permission named with who was refused where (the transport knows only the call); `err` itself. */
  async attributed(err: unknown, companyId: string, environment: KsefEnvironmentName): Promise<unknown> {
    if (err instanceof KsefPermissionDeniedError && !err.signIn) {
      const signIn = await this.tokens.signIn(companyId, environment).catch(() => null);
      if (signIn) err.refused(signIn);
    }
    return err;
  }

  private async callOnce<T>(companyId: string, environment: KsefEnvironmentName, fn: (api: KsefApi, bearer: string) => Promise<T>): Promise<T> {
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
