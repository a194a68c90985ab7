import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AccessSettings } from '@outlet/config';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '@outlet/contracts';

/** Response headers a browser client may read: the binary framing, rate-limit state, the auth challenge. */
const EXPOSED_HEADERS = [INFERENCE_HEADER_CONTENT_LENGTH, 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'WWW-Authenticate'];

/**
 * helmet's headers on every response (it also drops X-Powered-By), and CORS for the origins of
 * OUTLET_CORS_ORIGINS. Preflights are answered here, before any guard: a browser sends them
 * without the Authorization header they ask about.
 *
 * helmet's default Content-Security-Policy lets Swagger UI (/docs) and Bull Board load: their
 * scripts are files of this origin, their inline styles are allowed, and Bull Board's one inline
 * script is JSON data, which CSP does not run and so does not block. Only `upgrade-insecure-requests` is dropped: the gateway
 * speaks plain HTTP, and a browser reaching it by a host name would ask for every script and
 * style of those pages over HTTPS and get none.
 */
export function applyHttpHardening(app: NestExpressApplication, settings: AccessSettings): void {
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (settings.corsOrigins) {
    // No credentials: keys travel in the Authorization header, not in cookies. Request headers are
    // the ones the preflight asks for (cors reflects Access-Control-Request-Headers).
    app.enableCors({ origin: settings.corsOrigins, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
}
