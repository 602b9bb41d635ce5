"""Reads INI texts as the AWS CLI does, with botocore's own parser.

Input: a JSON file holding a list of texts. Output: a JSON file holding, for each text,
the sections botocore's raw_config_parse reads from it, or null where botocore refuses
the file (ConfigParseError).
"""
import json
import os
import sys
import tempfile

from botocore.configloader import raw_config_parse
from botocore.exceptions import ConfigParseError


def read(text, path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    try:
        return raw_config_parse(path)
    except ConfigParseError:
        return None


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        texts = json.load(f)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "file")
        out = [read(t, path) for t in texts]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


main()
