/**
 * Last.fm's error codes (https://www.last.fm/api/errorcodes) as the /2.0/ API answers them. Services
 * throw these where only Last.fm's vocabulary says what went wrong (an unapproved token, a bad session key).
 */
export const LASTFM_ERRORS = {
  INVALID_SERVICE: 2,
  INVALID_METHOD: 3,
  AUTHENTICATION_FAILED: 4,
  INVALID_PARAMETERS: 6,
  OPERATION_FAILED: 8,
  INVALID_SESSION_KEY: 9,
  INVALID_API_KEY: 10,
  SERVICE_OFFLINE: 11,
  INVALID_SIGNATURE: 13,
  UNAUTHORIZED_TOKEN: 14,
  TOKEN_EXPIRED: 15,
  SUSPENDED_API_KEY: 26,
  RATE_LIMITED: 29,
} as const;

export type LastfmErrorCode = (typeof LASTFM_ERRORS)[keyof typeof LASTFM_ERRORS];

export class LastfmError extends Error {
  readonly code: LastfmErrorCode;
  constructor(code: LastfmErrorCode, message: string) {
    super(message);
    this.name = "LastfmError";
    this.code = code;
  }
}
