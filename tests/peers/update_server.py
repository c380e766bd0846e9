"""Rolehop's update server for tests: serves the files of a directory (an update
manifest, `latest.json`, and the packages it names) over plain HTTP on 127.0.0.1, and
records every request it gets, so a test can tell that no request reached it.

Run: python update_server.py --dir DIR --port N (0 picks one); prints "listening on
HOST:PORT". Each request is appended to DIR/../requests.log as "METHOD PATH".
GET /_stand_in/health answers 200 and is not recorded.
"""

import argparse
import http.server
import os
import threading

LOCK = threading.Lock()


def handler(root, log):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def do_GET(self):
            if self.path == "/_stand_in/health":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with LOCK, open(log, "a", encoding="utf-8") as f:
                f.write(f"GET {self.path}\n")
            super().do_GET()

        def guess_type(self, path):
            return "application/json" if path.endswith(".json") else "application/octet-stream"

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    root = os.path.abspath(args.dir)
    log = os.path.join(os.path.dirname(root), "requests.log")
    open(log, "a", encoding="utf-8").close()
    server = http.server.ThreadingHTTPServer((args.host, args.port), handler(root, log))
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
