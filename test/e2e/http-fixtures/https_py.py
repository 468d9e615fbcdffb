# Python's ssl module reads and writes with SSL_read_ex/SSL_write_ex (libssl.so.3): the _ex
# uprobes of the TLS e2e test. `server CERT KEY` prints "listening <port>"; `client PORT PATH...`
# sends every request over one keep-alive connection and prints "<status> <local port>" each.
import http.client, http.server, ssl, sys

if sys.argv[1] == 'server':
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        def do_GET(self):
            body = ('py ' + self.path).encode()
            self.send_response(404 if self.path.startswith('/missing') else 200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    srv = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print('listening', srv.server_address[1], flush=True)
    srv.serve_forever()
else:
    ctx = ssl._create_unverified_context()
    conn = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[2]), context=ctx)
    for path in sys.argv[3:]:
        conn.request('GET', path)
        resp = conn.getresponse()
        resp.read()
        print(resp.status, conn.sock.getsockname()[1], flush=True)
    conn.close()
