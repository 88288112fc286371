"""``python -m plugin staff add|list|remove|reset``: the staff directory that admin rights in the chat come from."""

from __future__ import annotations

import argparse
import sys
from typing import Any, List, Optional, Tuple

from plugin.cli import CommandError
from plugin.cli.state import State, add_state_options, cli_actor, master_key, open_state


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("staff", help="manage the staff who may administer the bot in the chat")
    actions = parser.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a staff member; for TOTP prints the otpauth:// URI and a QR code once")
    add.add_argument("name", help="unique handle, e.g. ann (a-z, 0-9, _ . -)")
    add.add_argument("--role", required=True, choices=("admin", "supervisor", "agent"))
    add.add_argument(
        "--identity", action="append", required=True, metavar="CHANNEL:SENDER_ID",
        help="a channel identity the member chats from, e.g. whatsapp:+31612345678 or telegram:123456 (repeatable)",
    )
    add.add_argument("--otp", choices=("totp", "code"), default="totp", help="authenticator app (default) or sent code")
    add.add_argument("--contact", help="e-mail address sent codes go to (with --otp code)")
    add.add_argument("--no-qr", action="store_true", help="print only the URI, no QR code")
    add_state_options(add)
    add.set_defaults(func=_add)

    listing = actions.add_parser("list", help="list staff members (identities masked, no secrets)")
    add_state_options(listing)
    listing.set_defaults(func=_list)

    remove = actions.add_parser("remove", help="remove a staff member and end their editing windows")
    remove.add_argument("name")
    add_state_options(remove)
    remove.set_defaults(func=_remove)

    reset = actions.add_parser("reset", help="issue a new TOTP secret, clear failures and lockout, end editing windows")
    reset.add_argument("name")
    reset.add_argument("--no-qr", action="store_true", help="print only the URI, no QR code")
    add_state_options(reset)
    reset.set_defaults(func=_reset)


def _directory(state: State) -> Any:
    from plugin.policy.staff import StaffDirectory

    region = state.config.settings.blacklist.default_region
    return StaffDirectory(state.db, master_key(state), state.audit, default_region=region)


def _otp(state: State, directory: Any) -> Tuple[Any, Any]:
    from plugin.policy.otp import EditingWindows, OtpService

    windows = EditingWindows(state.db, state.audit)
    return OtpService(state.db, directory, master_key(state), state.audit, windows), windows


def _identities(values: List[str]) -> List[Tuple[str, str]]:
    pairs = []
    for value in values:
        channel, sep, sender = value.partition(":")
        if not sep or not channel.strip() or not sender.strip():
            raise CommandError("--identity takes CHANNEL:SENDER_ID, e.g. whatsapp:+31612345678")
        pairs.append((channel.strip(), sender.strip()))
    return pairs


def _print_enrolment(enrolment: Any, qr: bool) -> None:
    if enrolment.uri is None:
        print(f"{enrolment.member.name} receives codes at {enrolment.member.contact_shown}")
        return
    print("Scan this into the authenticator app now; the secret is not shown again:")
    print(enrolment.uri)
    if qr:
        import qrcode

        code = qrcode.QRCode(border=1)
        code.add_data(enrolment.uri)
        code.print_ascii(out=sys.stdout, invert=True)


def _add(args: argparse.Namespace) -> int:
    from plugin.policy.staff import StaffError

    state = open_state(args)
    try:
        enrolment = _directory(state).add(
            args.name, args.role, _identities(args.identity), otp_method=args.otp, contact=args.contact, actor=cli_actor()
        )
    except StaffError as error:
        raise CommandError(str(error)) from None
    member = enrolment.member
    print(f"added {member.name} ({member.role}, {member.otp_method}) chatting from {', '.join(member.identities)}")
    _print_enrolment(enrolment, qr=not args.no_qr)
    return 0


def _list(args: argparse.Namespace) -> int:
    state = open_state(args)
    directory = _directory(state)
    service, _ = _otp(state, directory)
    rows = [("name", "role", "otp", "contact", "locked", "identities")]
    for member in directory.list():
        locked: Optional[int] = service.locked_until(member)
        rows.append(
            (member.name, member.role, member.otp_method, member.contact_shown or "-",
             "until " + str(locked) if locked else "no", ", ".join(member.identities))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _remove(args: argparse.Namespace) -> int:
    from plugin.policy.staff import StaffError

    state = open_state(args)
    directory = _directory(state)
    try:
        member = directory.get(args.name)
        _, windows = _otp(state, directory)
        windows.close_all(member.id, "staff removed")
        directory.remove(args.name, actor=cli_actor())
    except StaffError as error:
        raise CommandError(str(error)) from None
    print(f"removed {member.name}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from plugin.policy.staff import StaffError

    state = open_state(args)
    directory = _directory(state)
    actor = cli_actor()
    try:
        member = directory.get(args.name)
        service, windows = _otp(state, directory)
        enrolment = directory.reset_secret(args.name, actor=actor)
        service.clear(member, actor=actor)
        closed = windows.close_all(member.id, "staff reset")
    except StaffError as error:
        raise CommandError(str(error)) from None
    print(f"reset {member.name}: failures and lockout cleared, {closed} editing window(s) ended")
    _print_enrolment(enrolment, qr=not args.no_qr)
    return 0
