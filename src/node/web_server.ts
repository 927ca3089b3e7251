/*
 * The explorer's web server (`kmem serve`): the site of src/node/web_build.ts,
 * built in memory with esbuild when the server starts and rebuilt
 * (incrementally) whenever the page itself is loaded, so an edit to
 * src/ shows on reload. No build step, no files written.
 *
 * Every response carries Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp: without them a browser gives
 * the page no SharedArrayBuffer, and the machine's RAM is SharedArrayBuffers.
 *
 * The boot options given to `kmem serve` (--mem, --cpus, ...) become the
 * page's defaults: index.html gets them in a <meta name="kmem-defaults">;
 * the URL's own query (?mem=2G&cpus=4) still wins.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ISOLATION_HEADERS, WebBundle, contentType } from './web_build.ts';
import type { BootOptions } from '../web/protocol.ts';

export interface WebServerOptions {
  port?: number;
  host?: string;
  /** Boot options the page starts from. */
  defaults?: Partial<BootOptions>;
  /** Called with each request's method, path and status (for --verbose). */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  bundle: WebBundle;
  close(): Promise<void>;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/</g, '&lt;');
}

export async function startWebServer(opts: WebServerOptions = {}): Promise<RunningServer> {
  const bundle = new WebBundle();
  await bundle.refresh();
  const defaults = opts.defaults && Object.keys(opts.defaults).length > 0 ? JSON.stringify(opts.defaults) : null;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
    if (path === '' || path.endsWith('/')) path += 'index.html';
    const send = (status: number, type: string, body: Uint8Array | string) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      opts.log?.(`${req.method} ${url.pathname} ${status}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === 'index.html') await bundle.refresh();
    if (bundle.errors.length > 0 && (path === 'index.html' || path.endsWith('.js'))) {
      return send(500, 'text/plain; charset=utf-8', `kmem serve: the explorer does not build:\n\n${bundle.errors.join('\n')}\n`);
    }
    let body = bundle.get(path);
    if (body === undefined) return send(404, 'text/plain', `not found: ${url.pathname}\n`);
    if (path === 'index.html' && defaults) {
      const meta = `<meta name="kmem-defaults" content='${escapeAttr(defaults)}'>`;
      body = new TextEncoder().encode(new TextDecoder().decode(body).replace('<!--kmem-defaults-->', meta));
    }
    return send(200, contentType(path), body);
  };

  const server = createServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => done());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}/`,
    bundle,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await bundle.dispose();
    },
  };
}
