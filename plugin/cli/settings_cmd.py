"""``python -m plugin settings check|show``: validate ``privacy.yml`` and print the settings a channel resolves to."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from plugin.cli import CommandError
from plugin.policy.settings import load_privacy_config, resolve
from plugin.policy.validation import SettingsError, get_value, to_mapping


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("settings", help="validate and show the plugin settings (privacy.yml)")
    actions = parser.add_subparsers(dest="settings_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a settings file; exit 2 with the offending key if invalid")
    check.add_argument("--config", help="settings file (default: $RASA_GUARD_CONFIG or ./privacy.yml)")
    check.set_defaults(func=_check)

    show = actions.add_parser("show", help="print the resolved settings as YAML")
    show.add_argument("--config", help="settings file (default: $RASA_GUARD_CONFIG or ./privacy.yml)")
    show.add_argument("--channel", help="apply this channel's overrides")
    show.add_argument("key", nargs="?", help="only this dotted key or group, e.g. session or masking.long_number_digits")
    show.set_defaults(func=_show)


def _check(args: argparse.Namespace) -> int:
    try:
        config = load_privacy_config(args.config)
    except SettingsError as error:
        raise CommandError(str(error)) from None
    channels = ", ".join(config.channel_overrides) or "none"
    print(f"{config.source}: valid (channel overrides: {channels})")
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        settings = resolve(load_privacy_config(args.config), channel=args.channel)
        value = get_value(settings, args.key) if args.key else settings
    except SettingsError as error:
        raise CommandError(str(error)) from None
    plain = to_mapping(value)
    if isinstance(plain, (dict, list)):
        print(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True).rstrip())
    else:
        print(yaml.safe_dump(plain, allow_unicode=True).replace("\n...\n", "").rstrip())
    return 0
