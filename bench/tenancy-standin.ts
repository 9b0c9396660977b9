// bench:tenancy --control's stand-in for the node: a bare HTTP server in a process of its own
// that takes every request's body and answers 429 with Retry-After, doing nothing else. Tenant A's
// flood sent here instead of to the node puts the same traffic on the machine (A's client, the
// kernel's sockets, a process reading the bodies) while the node serves B alone: B's p99 then
// shows what A's flood costs B through the machine, which no change in the node can remove.
import http from 'node:http';

const server = http.createServer({ keepAlive: true }, (req, res) => {
  req.resume(); // the body is read and dropped, as the node drops a refused one
  req.once('end', () => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"error":{"code":"QUOTA_EXCEEDED","message":"stand-in"}}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
