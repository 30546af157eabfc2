"""A corpus of invalid configs: (id, TOML text, keys every run must name in its error lines).

Each must make `generate` (and `main.py`) exit 2, print one line per problem naming the key, and
write nothing.
"""

from __future__ import annotations

VALID_CLOUDTRAIL = """
[cloudtrail]
log_bucket_name = "quilt-logs-bucket"
"""
BASE = 'control_account_ids = ["111122223333"]\nbuckets = ["data-bucket"]\n'


def _with(top: str = BASE, trail: str = VALID_CLOUDTRAIL) -> str:
    return top + trail


def _trail(extra: str) -> str:
    return _with(trail=VALID_CLOUDTRAIL + extra)


BAD_CONFIGS: list[tuple[str, str, list[str]]] = [
    # -- TOML itself
    ("malformed-toml", 'buckets = ["a"\n', ["<toml>"]),
    ("duplicate-toml-key", BASE + 'buckets = ["other"]\n', ["<toml>"]),
    ("not-utf8-ish-table", "[cloudtrail\n", ["<toml>"]),
    # -- required keys, types, empties
    ("missing-accounts", 'buckets = ["data-bucket"]\n' + VALID_CLOUDTRAIL, ["control_account_ids"]),
    ("missing-buckets", 'control_account_ids = ["111122223333"]\n' + VALID_CLOUDTRAIL, ["buckets"]),
    (
        "empty-accounts",
        _with('control_account_ids = []\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids"],
    ),
    ("empty-buckets", _with('control_account_ids = ["111122223333"]\nbuckets = []\n'), ["buckets"]),
    (
        "accounts-not-list",
        _with('control_account_ids = 111122223333\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids"],
    ),
    (
        "account-integer-item",
        _with('control_account_ids = [111122223333]\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids[0]"],
    ),
    (
        "buckets-table",
        _with('control_account_ids = ["111122223333"]\nbuckets = { a = 1 }\n'),
        ["buckets"],
    ),
    ("partition-not-string", _with(BASE + "partition = 1\n"), ["partition"]),
    ("trail-mode-not-string", _trail("mode = true\n"), ["cloudtrail.mode"]),
    ("cloudtrail-not-table", BASE + 'cloudtrail = "create"\n', ["cloudtrail"]),
    ("tags-not-table", _with(BASE + 'tags = ["a"]\n'), ["tags"]),
    ("tag-value-int", _with(BASE + "tags = { team = 1 }\n"), ["tags.team"]),
    # Terraform would store these in NFC (U+F900 -> U+8C48; e + combining acute -> U+00E9).
    ("tag-value-not-nfc", _with(BASE + 'tags = { team = "\\uF900" }\n'), ["tags.team"]),
    # ... and its JSON syntax (the CDKTF stack) drops a leading byte order mark.
    ("tag-value-leading-bom", _with(BASE + 'tags = { team = "\\uFEFFx" }\n'), ["tags.team"]),
    (
        "selector-value-not-nfc",
        _trail(
            '[[cloudtrail.extra_advanced_event_selectors]]\nname = "x"\n'
            'field_selectors = [{ field = "resources.ARN", starts_with = ["arn:aws:s3:::data-bucket/cafe\\u0301/"] }]\n'
        ),
        ["cloudtrail.extra_advanced_event_selectors[0].field_selectors[0].starts_with[0]"],
    ),
    # -- account ids
    (
        "account-short",
        _with('control_account_ids = ["12345"]\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids[0]"],
    ),
    (
        "account-letters",
        _with('control_account_ids = ["11112222333a"]\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids[0]"],
    ),
    (
        "account-placeholder",
        _with('control_account_ids = ["CONTROL_ACCOUNT"]\nbuckets = ["data-bucket"]\n'),
        ["control_account_ids[0]"],
    ),
    (
        "account-duplicate",
        _with(
            'control_account_ids = ["111122223333", "111122223333"]\nbuckets = ["data-bucket"]\n'
        ),
        ["control_account_ids[1]"],
    ),
    # -- bucket naming rules
    (
        "bucket-too-short",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["ab"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-too-long",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["' + "a" * 64 + '"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-uppercase",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["Data-Bucket"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-underscore",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data_bucket"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-starts-hyphen",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["-data-bucket"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-ends-dot",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data-bucket."]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-double-dot",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data..bucket"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-ip-address",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["192.168.5.4"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-xn-prefix",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["xn--data-bucket"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-sthree-prefix",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["sthree-data"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-s3alias-suffix",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data-s3alias"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-ol-s3-suffix",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data--ol-s3"]\n'),
        ["buckets[0]"],
    ),
    (
        "bucket-duplicate",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data-bucket", "data-bucket"]\n'),
        ["buckets[1]"],
    ),
    (
        "bucket-space",
        _with('control_account_ids = ["111122223333"]\nbuckets = ["data bucket"]\n'),
        ["buckets[0]"],
    ),
    # -- choices
    ("partition-unknown", _with(BASE + 'partition = "aws-iso"\n'), ["partition"]),
    ("action-set-unknown", _with(BASE + 'action_set = "all"\n'), ["action_set"]),
    ("region-bad", _with(BASE + 'region = "Virginia"\n'), ["region"]),
    ("selector-style-unknown", _trail('selector_style = "fancy"\n'), ["cloudtrail.selector_style"]),
    (
        "read-write-type-lowercase",
        _trail('read_write_type = "all"\n'),
        ["cloudtrail.read_write_type"],
    ),
    # -- unknown keys (typos must not pass)
    ("unknown-top-key", _with(BASE + 'bucket = ["other-bucket"]\n'), ["bucket"]),
    ("unknown-cloudtrail-key", _trail("multi_region = true\n"), ["cloudtrail.multi_region"]),
    # -- cloudtrail rules and conflicting options
    (
        "log-bucket-missing",
        _with(trail='[cloudtrail]\ntrail_name = "t-1"\n'),
        ["cloudtrail.log_bucket_name"],
    ),
    (
        "log-bucket-invalid",
        _with(trail='[cloudtrail]\nlog_bucket_name = "Logs_Bucket"\n'),
        ["cloudtrail.log_bucket_name"],
    ),
    (
        "log-bucket-is-data-bucket",
        _with(trail='[cloudtrail]\nlog_bucket_name = "data-bucket"\n'),
        ["cloudtrail.log_bucket_name"],
    ),
    ("trail-name-bad", _trail('trail_name = "-bad name"\n'), ["cloudtrail.trail_name"]),
    ("kms-not-arn", _trail('kms_key_arn = "my-key"\n'), ["cloudtrail.kms_key_arn"]),
    (
        "kms-without-trail",
        _trail('mode = "external"\nkms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/abc"\n'),
        ["cloudtrail.kms_key_arn"],
    ),
    (
        "mixed-extra-selectors",
        _trail(
            '[[cloudtrail.extra_event_selectors]]\ndata_resources = [{ type = "AWS::Lambda::Function", values = ["arn:aws:lambda"] }]\n'
            '[[cloudtrail.extra_advanced_event_selectors]]\nname = "x"\nfield_selectors = [{ field = "eventCategory", equals = ["Data"] }]\n'
        ),
        ["cloudtrail.extra_advanced_event_selectors"],
    ),
    (
        "extra-selector-empty",
        _trail('[[cloudtrail.extra_event_selectors]]\nread_write_type = "All"\n'),
        ["cloudtrail.extra_event_selectors[0]"],
    ),
    (
        "extra-advanced-no-name",
        _trail(
            '[[cloudtrail.extra_advanced_event_selectors]]\nfield_selectors = [{ field = "eventCategory", equals = ["Data"] }]\n'
        ),
        ["cloudtrail.extra_advanced_event_selectors[0].name"],
    ),
    (
        "extra-field-selector-unknown-operator",
        _trail(
            '[[cloudtrail.extra_advanced_event_selectors]]\nname = "x"\nfield_selectors = [{ field = "eventCategory", equal = ["Data"] }]\n'
        ),
        ["cloudtrail.extra_advanced_event_selectors[0].field_selectors[0].equal"],
    ),
    # -- limits and oversized lists
    (
        "basic-style-too-many-buckets-for-five-trails",
        _with(
            'control_account_ids = ["111122223333"]\nbuckets = ['
            + ", ".join(f'"bucket-{i:04d}"' for i in range(1251))
            + "]\n",
            VALID_CLOUDTRAIL + 'selector_style = "basic"\n',
        ),
        ["buckets"],
    ),
    (
        "too-many-buckets-for-five-trails",
        _with(
            'control_account_ids = ["111122223333"]\nbuckets = ['
            + ", ".join(f'"bucket-{i:04d}"' for i in range(2491))
            + "]\n"
        ),
        ["buckets"],
    ),
    (
        "trail-name-too-long-for-a-second-trail",
        _with(
            'control_account_ids = ["111122223333"]\nbuckets = ['
            + ", ".join(f'"bucket-{i:04d}"' for i in range(499))
            + "]\n",
            VALID_CLOUDTRAIL + f'trail_name = "{"t" * 127}"\n',
        ),
        ["cloudtrail.trail_name"],
    ),
    (
        "policy-over-20kb",
        _with(
            "control_account_ids = ["
            + ", ".join(f'"{i:012d}"' for i in range(1, 701))
            + ']\nbuckets = ["data-bucket"]\n'
        ),
        ["buckets[0]"],
    ),
    (
        "too-many-control-accounts",
        _with(
            "control_account_ids = ["
            + ", ".join(f'"{i:012d}"' for i in range(1, 1002))
            + ']\nbuckets = ["data-bucket"]\n'
        ),
        ["control_account_ids"],
    ),
    (
        "too-many-buckets",
        _with(
            'control_account_ids = ["111122223333"]\nbuckets = ['
            + ", ".join(f'"bucket-{i:05d}"' for i in range(10_001))
            + "]\n",
            '[cloudtrail]\nmode = "none"\n',
        ),
        ["buckets"],
    ),
    # -- several problems at once are all reported
    (
        "many-problems",
        'control_account_ids = ["1"]\nbuckets = ["B", "ok-bucket", "ok-bucket"]\npartition = "x"\n'
        '[cloudtrail]\nlog_bucket_name = "Bad"\ntypo = 1\n',
        [
            "control_account_ids[0]",
            "buckets[0]",
            "buckets[2]",
            "partition",
            "cloudtrail.log_bucket_name",
            "cloudtrail.typo",
        ],
    ),
    # -- fleet configs: every account's problems, each under its table
    (
        "fleet-problems-in-two-accounts",
        'control_account_ids = ["111122223333"]\n'
        '[[data_accounts]]\nname = "a"\naccount_id = "444455556666"\nbuckets = ["B"]\n'
        'cloudtrail = { mode = "none" }\n'
        '[[data_accounts]]\nname = "a"\naccount_id = "1"\nbuckets = ["ok-bucket"]\n'
        'role_arn = "arn:aws:iam::1:user/x"\n',
        [
            "data_accounts[0].buckets[0]",
            "data_accounts[1].account_id",
            "data_accounts[1].role_arn",
            "data_accounts[1].cloudtrail.log_bucket_name",
        ],
    ),
    (
        "fleet-shared-key-and-duplicates",
        'control_account_ids = ["1"]\ncloudtrail = { mode = "none" }\n'
        '[[data_accounts]]\nname = "a"\naccount_id = "444455556666"\nbuckets = ["x-bucket"]\n'
        '[[data_accounts]]\nname = "../b"\naccount_id = "444455556666"\nbuckets = ["y-bucket"]\n',
        ["control_account_ids[0]", "data_accounts[1].name"],
    ),
]
