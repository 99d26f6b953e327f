/**
 * postern-client: a client for Django-style session + CSRF backends (Postern, Django + DRF), in browsers and Node 18+.
 *
 *     import { createSession } from "postern-client";
 *     const session = createSession({ baseUrl: "http://127.0.0.1:8000" });
 *     await session.login("alice", "alice-password");
 *     for await (const user of session.paginate("/api/users/")) console.log(user);
 */
export { createSession, PosternSession } from "./session.js";
export type {
  CurrentUser,
  DetailAnswer,
  HttpMethod,
  LoginResult,
  RequestOptions,
  SessionInfo,
  SessionOptions,
  TotpSetup,
  TwoFactorStatus,
} from "./session.js";
export { CookieJar } from "./cookie-jar.js";
export type { StoredCookie } from "./cookie-jar.js";
export {
  CrossOriginError,
  CsrfFailedError,
  InvalidCredentialsError,
  NetworkError,
  NotAuthenticatedError,
  NotFoundError,
  PermissionDeniedError,
  PosternError,
  ReauthenticationRequiredError,
  ServerError,
  SessionExpiredError,
  ThrottledError,
  TwoFactorRequiredError,
  ValidationError,
} from "./errors.js";
export type { FieldErrors } from "./errors.js";
export { CookieNames, EndpointPaths, HeaderNames } from "./protocol.js";
