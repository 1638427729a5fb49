"""Validates patchfleet's AWS-shaped result files with botocore's Stubber.

The Stubber checks a response against the operation's output shape in botocore's SSM
model: required members, types, enums, string lengths and patterns. Each line of
`instance_patch_states.jsonl` is one InstancePatchState of a DescribeInstancePatchStates
response; each line of `instance_patches.jsonl` holds the `Patches` of one
DescribeInstancePatches response.

Usage: validate_shapes.py RESULTS_DIR
Prints one JSON object: {file: [{"line": n, "error": text}, ...]} and exits 0; a file
that is missing or unreadable is an error (exit 2).
"""

import datetime
import json
import pathlib
import sys

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

TIMESTAMPS = {
    "OperationStartTime",
    "OperationEndTime",
    "LastNoRebootInstallOperationTime",
    "InstalledTime",
}


def parse_times(value):
    if isinstance(value, dict):
        return {k: parse_time(v) if k in TIMESTAMPS else parse_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_times(v) for v in value]
    return value


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check(stubber, operation, response):
    try:
        stubber.add_response(operation, response)
        return None
    except ParamValidationError as error:
        return str(error).replace("\n", " ")


def main():
    results = pathlib.Path(sys.argv[1])
    session = botocore.session.get_session()
    client = session.create_client(
        "ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    files = {
        "instance_patch_states.jsonl": lambda line: (
            "describe_instance_patch_states",
            {"InstancePatchStates": [line]},
        ),
        "instance_patches.jsonl": lambda line: (
            "describe_instance_patches",
            {"Patches": line["Patches"]},
        ),
    }
    report = {}
    for name, shape in files.items():
        path = results / name
        if not path.exists():
            continue
        errors = []
        with path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                operation, response = shape(parse_times(json.loads(text)))
                error = check(stubber, operation, response)
                if error:
                    errors.append({"line": number, "error": error})
        report[name] = errors
    print(json.dumps(report))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, KeyError) as error:
        print(f"validate_shapes.py: {error}", file=sys.stderr)
        sys.exit(2)
