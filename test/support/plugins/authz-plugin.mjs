#!/usr/bin/env node
/**
 * A legacy authorization plugin for the tests: allows everything except
 * DELETE requests on volumes, and appends every AuthZReq/AuthZRes it gets
 * to <log> (method, URI, whether a body came, some headers).
 *
 *   node authz-plugin.mjs <socket> <log>
 */
import { appendFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';

const [socket, log] = process.argv.slice(2);

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const method = req.url.slice(1);
    const send = (doc) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
      res.end(`${JSON.stringify(doc)}\n`);
    };
    if (method === 'Plugin.Activate') return send({ Implements: ['authz'] });
    const b = JSON.parse(raw);
    const body = b.RequestBody ? Buffer.from(b.RequestBody, 'base64').toString('utf8') : null;
    appendFileSync(log, `${JSON.stringify({
      call: method, method: b.RequestMethod, uri: b.RequestURI, body, status: b.ResponseStatusCode,
      headers: b.RequestHeaders, responseBody: b.ResponseBody ? Buffer.from(b.ResponseBody, 'base64').toString('utf8') : null,
    })}\n`);
    if (method === 'AuthZPlugin.AuthZReq' && b.RequestMethod === 'DELETE' && /\/volumes\//.test(b.RequestURI)) {
      return send({ Allow: false, Msg: 'volumes stay' });
    }
    if (method === 'AuthZPlugin.AuthZReq' && /\/volumes\/create/.test(b.RequestURI) && body?.includes('"forbidden-name"')) {
      return send({ Allow: false, Msg: 'that name is reserved' });
    }
    send({ Allow: true });
  });
});
rmSync(socket, { force: true });
server.listen(socket, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
