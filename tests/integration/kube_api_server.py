"""A Kubernetes API server for kubectl that authenticates as the EKS authenticator
does: the bearer token `k8s-aws-v1.<base64url URL>` must hold a presigned STS
`GetCallerIdentity` URL for an STS host, and STS must answer it when it is sent with the
signed `Host` and this server's own cluster name in `x-k8s-aws-id` (so a token for
another cluster fails its signature). STS here is the emulator, reached at its own
address with the `Host` the token was signed for.

Arguments: the emulator's base URL, the cluster's name, a directory for the server's
certificate (made here with openssl: kubectl sends no bearer token over plain HTTP).
Prints `listening PORT CERTIFICATE` once, then one line per request: `authorized ARN PATH`
or `refused REASON`. Answers `GET /version` once authenticated, 401 otherwise.
"""
import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

TOKEN_PREFIX = "k8s-aws-v1."

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-eks-test",
    "gitCommit": "0",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# The emulator is on this machine: never through a proxy.
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def authenticate(token, sts, cluster):
    """The caller's ARN, or raises ValueError with why not."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not a k8s-aws-v1 token")
    body = token[len(TOKEN_PREFIX):]
    url = urllib.parse.urlsplit(
        base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    )
    host = url.hostname or ""
    sts_host = host.startswith("sts.") and (
        host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")
    )
    if url.scheme != "https" or not sts_host or url.path != "/":
        raise ValueError(f"not an STS URL: {host}")
    request = urllib.request.Request(
        f"{sts}/?{url.query}", headers={"Host": host, "x-k8s-aws-id": cluster}
    )
    try:
        with NO_PROXY.open(request, timeout=20) as reply:
            text = reply.read().decode()
    except urllib.error.HTTPError as e:
        raise ValueError(f"STS answered {e.code}") from None
    if "<Arn>" not in text:
        raise ValueError("no ARN from STS")
    return text.split("<Arn>", 1)[1].split("</Arn>", 1)[0]


def handler(sts, cluster):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            auth = self.headers.get("Authorization", "")
            try:
                if not auth.startswith("Bearer "):
                    raise ValueError("no bearer token")
                arn = authenticate(auth[len("Bearer "):], sts, cluster)
            except ValueError as e:
                print(f"refused {e}", flush=True)
                self.answer(401, status(401, "Unauthorized", str(e)))
                return
            print(f"authorized {arn} {self.path}", flush=True)
            if urllib.parse.urlsplit(self.path).path == "/version":
                self.answer(200, VERSION)
            else:
                self.answer(404, status(404, "NotFound", "not here"))

        def log_message(self, *args):
            pass

    return Handler


def status(code, reason, message):
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def certificate(directory):
    """A self-signed certificate for 127.0.0.1 (kubectl trusts it as the cluster's CA)."""
    cert = os.path.join(directory, "server.crt")
    key = os.path.join(directory, "server.key")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def main():
    sts, cluster, directory = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    cert, key = certificate(directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(sts, cluster))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"listening {server.server_address[1]} {cert}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
