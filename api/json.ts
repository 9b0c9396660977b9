// The JSON body parser: fastify's own (it refuses __proto__ and constructor.prototype
// keys), with two changes. A failure says where the JSON broke, and an empty body is
// accepted on routes that take none (`curl -X POST -H 'content-type: application/json'`
// on /v1/incidents/:id/ack is common and harmless).
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../protocols/index.ts';

export function addJsonParser(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      if (req.routeOptions.schema?.body === undefined) done(null, undefined);
      else done(new VigilError('BAD_REQUEST', 'body is empty; send a JSON object'), undefined);
      return;
    }
    secureParse(req, text, (err, value) => {
      if (!err) return done(null, value);
      done(new VigilError('BAD_REQUEST', `body is not valid JSON: ${why(text)}`), undefined);
    });
  });
}

/** The syntax error's own words (position included), or the poisoning refusal. */
function why(text: string): string {
  try {
    JSON.parse(text);
    return 'it holds a forbidden __proto__ or constructor.prototype key';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
