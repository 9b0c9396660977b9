// The JSON body parser. Two changes from fastify's own:
// - Keys named like Object.prototype properties (`__proto__`, `constructor`) are ordinary
//   names here (a label may be called `constructor`): the body is parsed with JSON.parse,
//   which makes them own properties, and no code of Vigil indexes or merges a plain object
//   by a client's string (Maps and null-prototype objects do that), so they cannot poison.
// - A failure says where the JSON broke, and an empty body is accepted on routes that take
//   none (`curl -X POST -H 'content-type: application/json'` on /v1/incidents/:id/ack).
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../protocols/index.ts';

export function addJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      if (req.routeOptions.schema?.body === undefined) done(null, undefined);
      else done(new VigilError('BAD_REQUEST', 'body is empty; send a JSON object'), undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      done(new VigilError('BAD_REQUEST', `body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`), undefined);
      return;
    }
    done(null, value);
  });
}
