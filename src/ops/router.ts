/**
 * The operator endpoint's router: a table of GET paths → handlers, with no framework. A handler
 * returns the whole reply; the router answers 404 for an unknown path, 405 for a method other
 * than GET or HEAD, and 500 (with the error's message) when a handler throws.
 *
 * @example
 * const route = createRouter({ '/healthz': () => ({ status: 200, body: 'ok\n' }) });
 * const reply = await route('GET', '/healthz?verbose=1'); // { status: 200, body: 'ok\n' }
 */

export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export type RouteHandler = () => HttpReply | Promise<HttpReply>;

export type Router = (method: string, url: string) => Promise<HttpReply>;

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

/** A JSON reply. */
export function jsonReply(status: number, value: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) + '\n' };
}

export function createRouter(routes: Readonly<Record<string, RouteHandler>>): Router {
  return async (method, url) => {
    // Only the path selects a route; a query string (a scraper's cache buster) is ignored.
    const path = new URL(url, 'http://localhost').pathname;
    const handler = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!handler) return { status: 404, headers: TEXT, body: `no route for ${path}; try ${Object.keys(routes).join(', ')}\n` };
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { ...TEXT, allow: 'GET, HEAD' }, body: `${method} not allowed\n` };
    try {
      return await handler();
    } catch (e) {
      return { status: 500, headers: TEXT, body: `${(e as Error).message}\n` };
    }
  };
}
