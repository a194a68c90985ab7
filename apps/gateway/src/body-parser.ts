import { json, NextFunction, Request, Response } from 'express';

/** JSON bodies up to `limit`; parse errors and oversize bodies answer `{"error"}` themselves. */
export function jsonBody(limit: string) {
  const parse = json({ limit });
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (err?: { type?: string; message?: string }) => {
      if (!err) return next();
      if (err.type === 'entity.too.large') {
        return res.status(413).json({ error: `request body is larger than the limit of ${limit} (OUTLET_BODY_LIMIT)` });
      }
      return res.status(400).json({ error: `malformed JSON body: ${err.message}` });
    });
}
