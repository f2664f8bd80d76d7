import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';

/** HS256 JWTs shaped like KSeF's (clients treat them as opaque); validity is decided by the server-side record. */

export function signJwt(secret: Buffer, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
}

/** The claims when the signature is ours; undefined for anything else (expiry is the record's to judge). */
export async function verifyJwt(secret: Buffer, token: string): Promise<JWTPayload | undefined> {
  try {
    return (await jwtVerify(token, secret, { algorithms: ['HS256'] })).payload;
  } catch (err) {
    if (err instanceof errors.JOSEError || err instanceof TypeError) return undefined;
    throw err;
  }
}
