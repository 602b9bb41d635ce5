"""EKS tokens as awscli signs them, at a frozen instant: awscli's own `TokenGenerator`
(with its STS client, as `aws eks get-token` builds it), and the whole `aws eks get-token`
command run in this process.

Reads a JSON list of cases on stdin, each {"accessKeyId", "secretAccessKey",
"sessionToken", "region", "cluster", "epochSeconds"}; prints a JSON list with, for each,
{"token": the TokenGenerator's token, "execCredential": what `aws eks get-token` printed,
parsed}. Nothing is sent anywhere: presigning is local.
"""
import contextlib
import datetime
import io
import json
import os
import sys
from unittest import mock

import awscli.clidriver
import botocore.auth
import botocore.session
from awscli.customizations.eks import get_token


def frozen(epoch_seconds):
    """Every clock botocore signs with and awscli dates the token with, stopped."""
    instant = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc)
    naive = instant.replace(tzinfo=None)

    def now(remove_tzinfo=True):
        return naive if remove_tzinfo else instant

    stack = contextlib.ExitStack()
    # botocore 1.31+ signs with `get_current_datetime`; older ones with utcnow.
    if hasattr(botocore.auth, "get_current_datetime"):
        stack.enter_context(mock.patch("botocore.auth.get_current_datetime", now))
    else:
        clock = stack.enter_context(mock.patch("botocore.auth.datetime"))
        clock.datetime.utcnow.return_value = naive
        clock.datetime.now.return_value = naive
    stack.enter_context(mock.patch.object(get_token, "get_current_datetime", now))
    return stack


def token_generator(case):
    session = botocore.session.Session()
    session.set_credentials(
        case["accessKeyId"], case["secretAccessKey"], case["sessionToken"]
    )
    with frozen(case["epochSeconds"]):
        sts = get_token.STSClientFactory(session).get_sts_client(
            region_name=case["region"]
        )
        return get_token.TokenGenerator(sts).get_token(case["cluster"])


def get_token_command(case):
    env = {
        "AWS_ACCESS_KEY_ID": case["accessKeyId"],
        "AWS_SECRET_ACCESS_KEY": case["secretAccessKey"],
        "AWS_SESSION_TOKEN": case["sessionToken"],
    }
    out = io.StringIO()
    with frozen(case["epochSeconds"]), mock.patch.dict(os.environ, env):
        with contextlib.redirect_stdout(out):
            driver = awscli.clidriver.create_clidriver()
            code = driver.main(
                [
                    "eks",
                    "get-token",
                    "--cluster-name",
                    case["cluster"],
                    "--region",
                    case["region"],
                    "--output",
                    "json",
                ]
            )
    if code != 0:
        raise SystemExit(f"aws eks get-token exited {code}")
    return json.loads(out.getvalue())


def main():
    # Only what this process is given: no profile, no endpoint override, no proxy.
    # (AWS_DATA_PATH is awscli's own, set when it is imported.)
    for name in list(os.environ):
        if name == "KUBERNETES_EXEC_INFO" or (
            name.startswith("AWS_") and name != "AWS_DATA_PATH"
        ):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    cases = json.load(sys.stdin)
    print(
        json.dumps(
            [
                {"token": token_generator(c), "execCredential": get_token_command(c)}
                for c in cases
            ]
        )
    )


if __name__ == "__main__":
    main()
