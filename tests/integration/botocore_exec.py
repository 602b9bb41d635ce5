"""A command run by `aws-sso-auth exec`, as a long-running tool would be: botocore's own
credential chain (which finds the container endpoint in the environment), and STS
GetCallerIdentity at AWS_ENDPOINT_URL_STS signed with what it found.

Arguments: how many seconds to keep going, and how long to wait between calls (0 0: one
call). Prints one JSON line per call: the provider botocore chose, the access key id,
the account STS names, and the seconds left on the credentials botocore holds; exits 1
with the error on the first call that fails.
"""
import datetime
import json
import sys
import time

import botocore.session


def main():
    duration, every = float(sys.argv[1]), float(sys.argv[2])
    session = botocore.session.Session()
    credentials = session.get_credentials()
    if credentials is None:
        print("botocore found no credentials", file=sys.stderr)
        sys.exit(1)
    sts = session.create_client("sts", region_name="us-east-1")
    ends = time.monotonic() + duration
    while True:
        try:
            who = sts.get_caller_identity()
        except Exception as e:  # every failure is the test's answer
            print(f"GetCallerIdentity failed: {e}", file=sys.stderr)
            sys.exit(1)
        frozen = credentials.get_frozen_credentials()
        expiry = getattr(credentials, "_expiry_time", None)
        left = None
        if expiry is not None:
            left = (expiry - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        print(json.dumps({
            "method": credentials.method,
            "accessKeyId": frozen.access_key,
            "account": who["Account"],
            "secondsLeft": left,
        }), flush=True)
        if time.monotonic() >= ends:
            return
        time.sleep(every)


if __name__ == "__main__":
    main()
