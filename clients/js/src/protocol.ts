/**
 * The protocol's facts, as src/Postern.Protocol (ProtocolNames.cs) writes them for the .NET side: Django's default
 * cookie and header names and the seed's endpoints. Written once here for the JavaScript client.
 */

export const CookieNames = {
  /** The CSRF token: Django 4.1+ keeps the 32-character secret, older releases a masked 64-character token. */
  csrf: "csrftoken",
  /** The server-side session's key (HttpOnly: a browser page never sees it). */
  session: "sessionid",
} as const;

export const HeaderNames = {
  /** Carries the CSRF token on unsafe requests; `GET /auth/csrf` also answers with it. */
  csrfToken: "X-CSRFToken",
} as const;

/** The seed's endpoints and Postern's account flows, relative to the backend's base URL (docs/protocol.md, docs/accounts.md). */
export const EndpointPaths = {
  csrf: "/auth/csrf",
  login: "/auth/login",
  logout: "/auth/logout",
  user: "/auth/user",
  apiRoot: "/api/",
  passwordChange: "/auth/password/change",
  passwordReset: "/auth/password/reset",
  passwordResetConfirm: "/auth/password/reset/confirm",
  signup: "/auth/signup",
  emailVerify: "/auth/email/verify",
  emailVerifyResend: "/auth/email/verify/resend",
  mfa: "/auth/mfa",
  totpSetup: "/auth/mfa/totp/setup",
  totpActivate: "/auth/mfa/totp/activate",
  totp: "/auth/mfa/totp",
  recoveryCodes: "/auth/mfa/recovery-codes",
  mfaAuthenticate: "/auth/mfa/authenticate",
  reauthenticate: "/auth/reauthenticate",
  sessions: "/api/sessions/",
  revokeOtherSessions: "/api/sessions/revoke-others/",
} as const;

/** RFC 9110's safe methods: the only ones Django's CSRF check lets through without the token pair. */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE";
}
