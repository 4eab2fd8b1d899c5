"""moto's WSGI app behind waitress, which keeps HTTP/1.1 connections alive.

`moto_server` runs on werkzeug's development server, which sends `Connection: close` on every
response, so each AWS SDK call opens a new TCP connection. Real AWS endpoints keep connections
alive; the benchmarks use this server so the bridge's CPU per AWS call is measured as in
production. Same flags as `moto_server` (-H host, -p port) and the same access log line per
request on stderr (the test harness counts them).

Run with the project venv: `.venv/bin/python scripts/moto_keepalive.py -H 127.0.0.1 -p 5000`.
"""

import argparse
import os
import signal
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve


def access_logged(app):
    """Prints `"METHOD PATH HTTP/1.1" STATUS - ACTION` per request: werkzeug's access log line,
    plus the action of JSON-protocol calls (`X-Amz-Target`, e.g. `DynamoDB_20120810.PutItem`)."""

    def wrapped(environ, start_response):
        def logging_start_response(status, headers, exc_info=None):
            code = status.split(" ", 1)[0]
            action = environ.get("HTTP_X_AMZ_TARGET", "")
            line = f'"{environ.get("REQUEST_METHOD")} {environ.get("PATH_INFO")} HTTP/1.1" {code} - {action}'
            sys.stderr.write(line + "\n")  # one write: no interleaving with other threads
            sys.stderr.flush()
            return start_response(status, headers, exc_info)

        return app(environ, logging_start_response)

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    # SQS long polls hold a thread each for up to 20 s: keep plenty. Clients pool idle
    # connections, which count against waitress's limit (default 100) until they close.
    serve(
        access_logged(app),
        host=args.host,
        port=args.port,
        threads=64,
        connection_limit=2048,
        backlog=2048,
        ident="moto",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
