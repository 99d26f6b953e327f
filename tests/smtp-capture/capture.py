"""A real SMTP server for the tests (tests/Postern.Testing/SmtpTestServer.cs), on Debian's python3-aiosmtpd.

    python3 capture.py PORT FOLDER

Listens on 127.0.0.1:PORT and writes every message it accepts to FOLDER as NNNNNN.eml, whole, with the envelope in two
headers put first (X-Capture-Mail-From, X-Capture-Rcpt-To). Each file appears complete or not at all (written aside, then
renamed). A recipient whose address starts with "refused" is refused for good (550). While FOLDER holds a file named
"stall", DATA is answered never (a server that hangs mid-send), and a file stalled-NNNNNN says that one is hanging.
With a file "auth" in FOLDER (a user name and a password, one line each), it offers AUTH without TLS and takes a
message only from a client that logged in with those.
Prints "ready" once it answers; runs until it is sent SIGTERM.
"""

import asyncio
import itertools
import os
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Capture:
    def __init__(self, folder):
        self.folder = folder
        # On from the files a previous run left, so a restarted server (an outage in a test) overwrites none.
        taken = [int(name[-6:]) for name in (os.path.splitext(n)[0] for n in os.listdir(folder)) if name[-6:].isdigit()]
        self.numbers = itertools.count(max(taken, default=0) + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        if os.path.exists(os.path.join(self.folder, "stall")):
            open(os.path.join(self.folder, "stalled-%06d" % number), "w").close()
            await asyncio.sleep(3600)
        envelope_headers = "X-Capture-Mail-From: %s\r\nX-Capture-Rcpt-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))
        content = envelope.original_content or envelope.content
        name = os.path.join(self.folder, "%06d.eml" % number)
        with open(name + ".part", "wb") as eml:
            eml.write(envelope_headers.encode("ascii") + content)
        os.replace(name + ".part", name)
        return "250 Message accepted for delivery"


def authenticator_for(folder):
    """None without an "auth" file; else a check of the login against the user name and password it holds."""
    path = os.path.join(folder, "auth")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as auth:
        user, password = auth.read().split("\n")[:2]

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)

    return authenticate


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    authenticator = authenticator_for(folder)
    auth = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False} if authenticator else {}
    controller = Controller(Capture(folder), hostname="127.0.0.1", port=port, **auth)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
