import { NextFunction, Request, Response, raw } from 'express';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '@outlet/contracts';
import { splitInferenceBody } from './binary-tensor';
import { RequestError } from './inference-request';

/** A request whose body was framed by the binary tensor data extension keeps its bytes after the JSON here. */
type FramedRequest = Request & { binaryTensors?: Buffer };

/** The bytes after the JSON header of a request sent with `Inference-Header-Content-Length` (else undefined). */
export function binaryPart(req: Request): Buffer | undefined {
  return (req as FramedRequest).binaryTensors;
}

/**
 * Request bodies up to `limit` (after any Content-Encoding: gzip, deflate, br), read as JSON
 * whatever their content-type, or with none, as Triton and KServe accept them. With an
 * `Inference-Header-Content-Length` header only that many bytes are JSON and the rest stays
 * beside it for the binary tensor data extension (`binaryPart`). Errors answer `{"error"}` here.
 */
export function requestBody(limit: string) {
  const read = raw({ type: () => true, limit, inflate: true });
  const headerName = INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase();
  return (req: Request, res: Response, next: NextFunction) =>
    read(req, res, (err?: { type?: string; message?: string; code?: string; status?: number }) => {
      if (err) {
        const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (err.type === 'entity.too.large') {
          return res.status(413).json({ error: `request body is larger than the limit of ${limit} (OUTLET_BODY_LIMIT)` });
        }
        if (err.type === 'encoding.unsupported') {
          return res.status(415).json({ error: `unsupported Content-Encoding "${encoding}": send gzip, deflate or none` });
        }
        if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
          return res.status(400).json({ error: `malformed ${encoding} request body (Content-Encoding: ${encoding}): ${err.message}` });
        }
        return res.status(err.status && err.status >= 400 && err.status < 500 ? err.status : 400).json({ error: `could not read the request body: ${err.message}` });
      }
      // No body at all (Triton's clients POST some calls with an empty one): nothing to parse.
      if (!Buffer.isBuffer(req.body) || req.body.byteLength === 0) {
        req.body = undefined;
        return next();
      }
      const header = req.headers[headerName];
      try {
        const { json, binary } = splitInferenceBody(req.body, Array.isArray(header) ? header[0] : header);
        req.body = json;
        if (binary !== undefined) (req as FramedRequest).binaryTensors = binary;
      } catch (e) {
        if (e instanceof RequestError) return res.status(e.status).json({ error: e.message });
        return next(e);
      }
      next();
    });
}
