"""Verifies deliveries with the standardwebhooks package from PyPI (not code of this project).

Reads JSON from stdin: {"checks": [{"secret": "whsec_...", "body": "...", "headers": {...}}, ...]}
and prints one JSON line: {"results": [true | "<why it failed>", ...]}.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

results = []
for check in json.load(sys.stdin)["checks"]:
    try:
        Webhook(check["secret"]).verify(check["body"], check["headers"], json_parse=False)
        results.append(True)
    except WebhookVerificationError as error:
        results.append(str(error) or type(error).__name__)
print(json.dumps({"results": results}))
