"""How long botocore takes to get credentials, as a tool does when it starts: on a fresh
Session, get_credentials().get_frozen_credentials(), RUNS times (default 50) after one
untimed warm-up. Only that call is timed: making the Session costs the same whatever
the credentials' source. Where they come from is the environment's affair: a container
endpoint (`aws-sso-auth exec`), a profile's credential_process (AWS_PROFILE), keys.

Prints one JSON object: the provider botocore chose and each run's milliseconds. Exits 1
when botocore finds no credentials.
"""
import json
import sys
import time

import botocore.session


def fetch():
    """The provider botocore used, and the milliseconds it took."""
    session = botocore.session.Session()
    started = time.perf_counter()
    credentials = session.get_credentials()
    if credentials is None:
        print("botocore found no credentials", file=sys.stderr)
        sys.exit(1)
    credentials.get_frozen_credentials()
    return credentials.method, (time.perf_counter() - started) * 1000.0


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    method, _ = fetch()
    times = [fetch()[1] for _ in range(runs)]
    print(json.dumps({"method": method, "ms": times}))


if __name__ == "__main__":
    main()
