import type { Response } from 'got';

/** Small readers for raw responses in tests. */

export const json = <T = Record<string, any>>(response: Response<Buffer | unknown>): T =>
  JSON.parse(Buffer.isBuffer(response.body) ? response.body.toString('utf8') : String(response.body)) as T;

/** The single exceptionCode of a default-format 400. */
export function exceptionCode(response: Response<Buffer | unknown>): number {
  const body = json(response);
  return body.exception.exceptionDetailList[0].exceptionCode as number;
}

export function exceptionDetails(response: Response<Buffer | unknown>): string[] {
  const body = json(response);
  return (body.exception.exceptionDetailList[0].details ?? []) as string[];
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
