"""An ECR registry stand-in for the docker client, reached as its HTTP proxy.

    python3 docker_registry.py EMULATOR_URL

Prints the port it listens on (127.0.0.1), then serves until killed. Docker, told
HTTP_PROXY / HTTPS_PROXY = this address and --insecure, first tries https:// through a
CONNECT tunnel: the tunnel answers in plain HTTP, the TLS handshake fails, and docker
goes on to http://, sending `GET http://HOST/v2/...` here. Every request without a Basic
password of the registry named by its Host is answered 401 with a `WWW-Authenticate:
Basic` challenge; a password is checked with the emulator (`POST /_emulator/ecr/check`),
which knows the passwords it issued and whose registry (account, region) each opens. A
tag's manifest and its config blob make one small image. Each password checked is logged
on stderr as `authorized ACCOUNT REGION` or `refused`.
"""

import base64
import hashlib
import http.server
import json
import re
import sys
import urllib.error
import urllib.request

EMULATOR = sys.argv[1].rstrip("/")
HOST = re.compile(r"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?$")

CONFIG = json.dumps(
    {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "config": {}}
).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": CONFIG_DIGEST,
            "size": len(CONFIG),
        },
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def log(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def owner(password):
    """The (account, region) whose registry `password` opens, per the emulator."""
    request = urllib.request.Request(
        EMULATOR + "/_emulator/ecr/check",
        data=json.dumps({"password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as r:
            answer = json.load(r)
            return answer["accountId"], answer["region"]
    except urllib.error.HTTPError:
        return None


class Registry(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self):
        # A tunnel that speaks plain HTTP: docker's TLS handshake fails, and with
        # --insecure it falls back to http://.
        log("CONNECT " + self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.flush()
        # Spoken to first (the ClientHello), as a TLS server is: Go reads the CONNECT
        # answer through a buffer it then drops, so an answer sent before would be lost.
        self.connection.settimeout(10)
        try:
            self.connection.recv(4096)
        except OSError:
            pass
        self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        log("%s %s" % (self.command, self.path))
        host = self.headers.get("Host", "")
        m = HOST.match(host)
        if not m:
            return self.reply(404)
        auth = self.headers.get("Authorization", "")
        who = None
        if auth.startswith("Basic "):
            try:
                user, password = base64.b64decode(auth[6:]).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            who = owner(password) if user == "AWS" else None
            if who == (m.group(1), m.group(2)):
                log("authorized %s %s" % who)
            else:
                log("refused")
                who = None
        if who is None:
            return self.reply(
                401,
                b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                [
                    ("WWW-Authenticate", 'Basic realm="https://%s/"' % host),
                    ("Docker-Distribution-API-Version", "registry/2.0"),
                    ("Content-Type", "application/json"),
                ],
            )
        path = self.path.split("://", 1)[-1]
        path = path[path.find("/"):]
        if path == "/v2/":
            return self.reply(200, b"{}", [("Docker-Distribution-API-Version", "registry/2.0")])
        if re.match(r"^/v2/.+/manifests/[^/]+$", path):
            return self.reply(
                200,
                MANIFEST,
                [
                    ("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                    ("Docker-Content-Digest", MANIFEST_DIGEST),
                ],
            )
        if path.endswith("/blobs/" + CONFIG_DIGEST):
            return self.reply(
                200, CONFIG, [("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", CONFIG_DIGEST)]
            )
        return self.reply(404)

    do_HEAD = do_GET


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
print(server.server_address[1], flush=True)
server.serve_forever()
