"""The benchmark table: this project's figures beside the tools users would pick instead,
measured in the same run against the same emulator. Run through scripts/bench, which
builds the release binaries and installs the comparison tools in a throw-away venv.

Usage: python3 scripts/bench.py CLI_BINARY VENV [--quick] [--peers-only]
"""

import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

START_URL = "https://bench-org.awsapps.com/start"
REGION = "eu-west-1"
ACCOUNTS = 1000


def run(cmd, env, check=True, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[:400]}")
    return p


def timed(cmd, env, runs):
    """Median and spread of whole-process wall time, in milliseconds; every run must succeed."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append((time.perf_counter() - t0) * 1000)
        if p.returncode != 0:
            raise SystemExit(f"{os.path.basename(cmd[0])} {cmd[1]} failed: {p.stderr.strip()[:400]}")
    return statistics.median(times), min(times), max(times)


def markdown_rows(text):
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|---") and re.match(r"\|\s*[\d.]", line)
    ]


def main():
    cli, venv = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="aws-sso-tray-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=work,
        XDG_CONFIG_HOME=f"{work}/.config",
        XDG_CACHE_HOME=f"{work}/.cache",
        XDG_STATE_HOME=f"{work}/.local/state",
        BROWSER="true",
        AWS_EC2_METADATA_DISABLED="true",
    )
    rows = []
    emulator = subprocess.Popen(
        [os.path.join(os.path.dirname(cli), "aws-sso-emulator"), "--port", "0", "--accounts", str(ACCOUNTS), "--auto-approve"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = emulator.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        env.update(AWS_ENDPOINT_URL_SSO=url, AWS_ENDPOINT_URL_SSO_OIDC=url)
        # Share the session with the AWS CLI's token cache, which the other tools read.
        os.makedirs(f"{work}/.config/aws-sso-tray")
        with open(f"{work}/.config/aws-sso-tray/settings.json", "w") as f:
            json.dump({"preferences": {"shareSessionWithAwsCli": True}}, f)
        run([cli, "login", "--start-url", START_URL, "--sso-region", REGION, "--device-code", "--no-browser"], env)
        accounts = json.loads(run([cli, "accounts", "--json"], env).stdout)
        account = accounts[0]["accountId"]
        role = "ReadOnlyAccess"
        run([cli, "favourite", "add", "bench", "--account", account, "--role", role], env)
        run([cli, "credentials", "--profile", "bench"], env)  # written once: warm from now on
        cache = f"{work}/.aws/sso/cache/{hashlib.sha1(START_URL.encode()).hexdigest()}.json"
        with open(cache) as f:
            token = json.load(f)["accessToken"]

        runs = 10 if quick else 30
        ours = timed([cli, "credentials", "--profile", "bench"], env, runs * 3)
        util = timed(
            [f"{venv}/bin/aws-sso-util", "credential-process", "--start-url", START_URL,
             "--region", REGION, "--account-id", account, "--role-name", role], env, runs)
        rows.append(("warm `credential_process`, whole process (median ms)", ours[0],
                     "aws-sso-util credential-process", util[0]))

        aws = f"{venv}/bin/aws"
        common = ["--access-token", token, "--region", REGION, "--endpoint-url", url, "--output", "json"]
        ours = timed([cli, "accounts", "--json"], env, runs)
        theirs = timed([aws, "sso", "list-accounts", *common], env, runs)
        rows.append((f"list {ACCOUNTS:,} accounts (median ms)", ours[0], "aws sso list-accounts", theirs[0]))
        ours = timed([cli, "credentials", "--account", account, "--role", role, "--format", "json"], env, runs)
        theirs = timed([aws, "sso", "get-role-credentials", "--account-id", account, "--role-name", role, *common], env, runs)
        rows.append(("one role's credentials (median ms)", ours[0], "aws sso get-role-credentials", theirs[0]))
    finally:
        emulator.terminate()
        emulator.wait()
        shutil.rmtree(work, ignore_errors=True)

    app = []
    if "--peers-only" not in sys.argv:
        app = benches(root, quick, rows)
    report(rows, app)


def benches(root, quick, rows):
    """The Rust benchmarks and the app's figures; appends rows, returns the app's table."""
    cargo = ["cargo", "bench", "--locked", "--quiet"]
    rates = ["20"] if quick else ["5", "20", "50"]
    out = run([*cargo, "--bench", "discovery", "--", *rates], os.environ, cwd=root).stdout
    for r in markdown_rows(out):
        rows.append((f"discovery 1,000 accounts x 3 roles at {r[0]} req/s, {r[3]} failed (s)",
                     float(r[4]), "ideal: requests / rate", float(r[5])))
    out = run([*cargo, "--bench", "renewal", "--", "20"], os.environ, cwd=root).stdout
    for r in markdown_rows(out):
        rows.append((f"renewal of {r[1]} favourites at {r[0]} req/s: {r[2]} calls, {r[4]} file write(s) (s)",
                     float(r[5]), "ideal: requests / rate", float(r[6])))
    out = run(["bash", "scripts/bench-app", "60" if quick else "300"], os.environ, cwd=root).stdout
    return [l for l in out.splitlines() if l.startswith("| ") and not l.startswith(("| figure", "| ---"))]


def report(rows, app):
    machine = f"{os.cpu_count()} cores, {os.uname().machine}"
    print(f"Benchmarks, {time.strftime('%Y-%m-%d')}, {machine}; the emulator on the same machine.")
    print()
    print("| measurement | aws-sso-tray | compared with | its figure | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for name, ours, other, theirs in rows:
        print(f"| {name} | {ours:,.1f} | {other} | {theirs:,.1f} | {ours / theirs:.3f} |")
    if app:
        print()
        print("| the app (release, Xvfb) | value |")
        print("| --- | --- |")
        for line in app:
            print(line)


if __name__ == "__main__":
    main()
