"""Prepares the demo server for scripts/contract-test; prints shell assignments for the hooks.

Usage: prepare.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD MEMBER_EMAIL MEMBER_PASSWORD

Checks that both demo accounts sign in, names them as protected (the fuzzer must not deactivate
or demote the accounts it signs in with), adds a spare user for it to change instead, and names
the events the fuzzer may delete (the host application's; the product's own records are never
deleted).
"""

import json
import sys
import urllib.request


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data, timeout=10) as response:
        return json.load(response)


def main():
    base, admin_email, admin_password, member_email, member_password = sys.argv[1:6]
    admin = call(base, "POST", "/api/v1/auth/login", {"email": admin_email, "password": admin_password})
    member = call(base, "POST", "/api/v1/auth/login", {"email": member_email, "password": member_password})
    token = admin["access_token"]
    spare = call(
        base,
        "POST",
        "/api/v1/users",
        {"email": "spare@acme.example", "name": "Spare User", "password": "spare-user-pass", "role": "member"},
        token=token,
    )
    # The host application's events (the product's own records are never deleted).
    deletable = call(base, "GET", "/api/v1/events?module=booking&per_page=100", token=token)["items"]
    print(f"CONTRACT_PROTECTED_USER_IDS={admin['user']['id']},{member['user']['id']}")
    print(f"CONTRACT_SPARE_USER_ID={spare['id']}")
    print(f"CONTRACT_DELETABLE_IDS={','.join(str(e['id']) for e in deletable)}")


if __name__ == "__main__":
    main()
