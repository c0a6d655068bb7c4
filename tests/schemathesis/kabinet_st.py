"""Small helpers for run.sh: wait for the server, sign in, check or end a session, and count
the results of the Schemathesis runs from their JUnit reports.

Only ever talks to 127.0.0.1 (with the tenant chosen by the Host header).

    kabinet_st.py wait    PORT HOST [SECONDS]
    kabinet_st.py login   PORT HOST PATH JSON_BODY   -> prints "<session token> <csrf token>"
    kabinet_st.py check   PORT HOST TOKEN            -> exit 0 if GET /session is 200
    kabinet_st.py logout  PORT HOST TOKEN CSRF
    kabinet_st.py summary REPORT_DIR RUN_NAME...     -> per-run lines and the closing line
"""

import glob
import json
import os
import sys
import time
import xml.etree.ElementTree as ET

import requests

# Loopback only, never through a proxy from the environment.
SESSION = requests.Session()
SESSION.trust_env = False
COOKIE = "kabinet_session"


def base(port: str) -> str:
    return f"http://127.0.0.1:{port}"


def wait(port: str, host: str, seconds: str = "60") -> int:
    deadline = time.monotonic() + float(seconds)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = SESSION.get(f"{base(port)}/api/openapi.json", headers={"Host": host}, timeout=5)
            if r.status_code == 200:
                return 0
            last = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            last = str(e)
        time.sleep(1)
    print(f"no Kabinet at 127.0.0.1:{port} (Host {host}) after {seconds}s: {last}", file=sys.stderr)
    return 1


def login(port: str, host: str, path: str, body: str) -> int:
    r = SESSION.post(
        f"{base(port)}/api/v1{path}", json=json.loads(body), headers={"Host": host}, timeout=30
    )
    if r.status_code != 200:
        hint = ""
        if r.status_code == 429:
            hint = f" (login throttle; Retry-After: {r.headers.get('Retry-After', '?')}s)"
        print(f"sign-in {path} on {host} failed: HTTP {r.status_code}{hint}: {r.text}", file=sys.stderr)
        return 1
    token = r.cookies.get(COOKIE)
    csrf = r.json().get("csrf_token")
    if not token or not csrf:
        print(f"sign-in {path} on {host}: no {COOKIE} cookie or csrf_token", file=sys.stderr)
        return 1
    print(token, csrf)
    return 0


def check(port: str, host: str, token: str) -> int:
    r = SESSION.get(
        f"{base(port)}/api/v1/session", headers={"Host": host}, cookies={COOKIE: token}, timeout=30
    )
    if r.status_code != 200:
        print(f"GET /session on {host}: HTTP {r.status_code}: {r.text}", file=sys.stderr)
        return 1
    return 0


def logout(port: str, host: str, token: str, csrf: str) -> int:
    r = SESSION.post(
        f"{base(port)}/api/v1/auth/logout",
        headers={"Host": host, "X-CSRF-Token": csrf},
        cookies={COOKIE: token},
        timeout=30,
    )
    if r.status_code != 204:
        print(f"POST /auth/logout on {host}: HTTP {r.status_code}: {r.text}", file=sys.stderr)
        return 1
    return 0


def summary(report_dir: str, *runs: str) -> int:
    """One test per (run, operation; and run, stateful tests) from each run's JUnit file, plus one failure for a run whose
    schemathesis exited non-zero with no failing operation (a crash, an unreachable schema) and
    one for a run after which its session no longer worked (signed out mid-run)."""
    passed = failed = 0
    for run in runs:
        d = os.path.join(report_dir, run)
        p = f = 0
        problems = []
        for path in glob.glob(os.path.join(d, "*.xml")):
            for case in ET.parse(path).getroot().iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    f += 1
                    problems.append(case.get("name"))
                else:
                    p += 1
        exit_file = os.path.join(d, "EXIT")
        code = open(exit_file, encoding="utf-8").read().strip() if os.path.exists(exit_file) else "?"
        if code != "0" and f == 0:
            f += 1
            problems.append(f"schemathesis exited {code} with no failing operation: see its output")
        lost = os.path.join(d, "SESSION_LOST")
        if os.path.exists(lost):
            f += 1
            problems.append("the session no longer worked after the run")
        line = f"  {run} run: {p} tests passed, {f} failed"
        if problems:
            line += " (" + "; ".join(problems) + ")"
        print(line)
        passed += p
        failed += f
    print(f"schemathesis: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    cmd, args = sys.argv[1], sys.argv[2:]
    return {"wait": wait, "login": login, "check": check, "logout": logout, "summary": summary}[cmd](
        *args
    )


if __name__ == "__main__":
    sys.exit(main())
