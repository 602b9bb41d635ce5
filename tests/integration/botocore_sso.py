"""Resolves one profile's credentials with botocore alone, as the AWS CLI does: its own
config loader, its own SSO credential provider, the token from its own cache under
~/.aws/sso/cache, and GetRoleCredentials at AWS_ENDPOINT_URL_SSO.

Argument: the profile. Prints JSON: the provider botocore chose, the access key id, how
many profiles the config file holds, and the seconds botocore took to load the file.
"""
import json
import sys
import time

import botocore.session


def main():
    session = botocore.session.Session(profile=sys.argv[1])
    started = time.perf_counter()
    profiles = session.full_config["profiles"]
    loaded = time.perf_counter() - started
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials()
    print(json.dumps({
        "method": credentials.method,
        "accessKeyId": frozen.access_key,
        "profiles": len(profiles),
        "loadSeconds": loaded,
    }))


if __name__ == "__main__":
    main()
