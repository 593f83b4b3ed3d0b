/**
 * The Engine API routes the console's pages use, and no others: the proxy
 * forwards only these, so a page (or a script that got hold of the cookie)
 * cannot reach plugin installs, swarm changes, builds, archives or exec start (the
 * terminal reaches exec only through its own websocket bridge). Every POST and
 * DELETE here changes state, so the console server also asks it for the same origin.
 *
 *   allowedRoute('POST', '/containers/web/stop')  // true
 *   allowedRoute('POST', '/plugins/pull')         // false
 */
type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE';

const ID = '[^/]+';
/** Image names keep their slashes (`/images/127.0.0.1:5000/team/app:1/json`). */
const IMAGE = '.+';

const routes: [Method, string][] = [
  ['GET', '/_ping'],
  ['HEAD', '/_ping'],
  ['GET', '/version'],
  ['GET', '/info'],
  ['GET', '/events'],
  ['GET', '/system/df'],
  ['GET', '/containers/json'],
  ['POST', '/containers/create'],
  ['GET', `/containers/${ID}/json`],
  ['GET', `/containers/${ID}/logs`],
  ['GET', `/containers/${ID}/top`],
  ['GET', `/containers/${ID}/stats`],
  ['POST', `/containers/${ID}/(?:start|stop|restart|kill|pause|unpause)`],
  ['DELETE', `/containers/${ID}`],
  ['GET', '/images/json'],
  ['GET', `/images/${IMAGE}/json`],
  ['GET', `/images/${IMAGE}/history`],
  ['POST', '/images/create'],
  ['POST', '/images/prune'],
  ['POST', `/images/${IMAGE}/tag`],
  ['POST', `/images/${IMAGE}/push`],
  ['DELETE', `/images/${IMAGE}`],
  ['GET', '/volumes'],
  ['POST', '/volumes/create'],
  ['POST', '/volumes/prune'],
  ['GET', `/volumes/${ID}`],
  ['DELETE', `/volumes/${ID}`],
  ['GET', '/networks'],
  ['POST', '/networks/create'],
  ['POST', '/networks/prune'],
  ['GET', `/networks/${ID}`],
  ['DELETE', `/networks/${ID}`],
  ['GET', '/nodes'],
  ['GET', '/services'],
  ['GET', `/services/${ID}`],
  ['GET', `/services/${ID}/logs`],
  ['GET', '/tasks'],
];

const table = routes.map(([method, path]) => ({ method, re: new RegExp(`^${path}$`) }));

/** Whether the proxy forwards `method path` (a path without the `/vX.Y` prefix or query). */
export function allowedRoute(method: string, path: string): boolean {
  // `..` or encoded slashes could walk a matched prefix onto another route
  if (path.includes('/../') || path.endsWith('/..') || /%2f|%5c|%2e%2e/i.test(path)) return false;
  return table.some((r) => r.method === method && r.re.test(path));
}
