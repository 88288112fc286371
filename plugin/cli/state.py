"""What the state-changing commands share: ``--config``/``--state-url`` options, opening the state database, the actor."""

from __future__ import annotations

import argparse
import getpass
from dataclasses import dataclass
from typing import Any

from plugin.cli import CommandError


@dataclass(frozen=True)
class State:
    """What a state-changing command needs: the settings in force, the state database and its audit log."""

    config: Any  # PrivacyConfig
    url: str
    db: Any  # StateDB
    audit: Any  # AuditLog


def add_state_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="settings file (default: $RASA_GUARD_CONFIG or ./privacy.yml)")
    parser.add_argument(
        "--state-url",
        help="SQLAlchemy URL of the state database (default: $RASA_GUARD_STATE_URL, else storage.state_url in privacy.yml)",
    )


def open_state(args: argparse.Namespace, must_exist: bool = False) -> State:
    """Load the settings and open the state database named by ``--state-url`` or the settings; read-only commands
    pass ``must_exist`` so that a mistyped URL is an error rather than a new empty database."""
    from plugin.policy.audit import AuditLog
    from plugin.policy.settings import load_privacy_config, state_url
    from plugin.policy.validation import SettingsError
    from plugin.storage.db import StateDB, StateDBError, sqlite_path

    try:
        config = load_privacy_config(args.config)
    except SettingsError as error:
        raise CommandError(str(error)) from None
    url = args.state_url or state_url(config.settings)
    try:
        path = sqlite_path(url)
        if must_exist and path is not None and not path.exists():
            raise CommandError(f"no state database at {path}; run the bot once or pass --state-url")
        db = StateDB.open(url)
    except StateDBError as error:
        raise CommandError(str(error)) from None
    return State(config, url, db, AuditLog(db))


def master_key(state: State) -> Any:
    from plugin.storage.db import state_dir_of
    from plugin.storage.deployment_key import check_deployment_key
    from plugin.storage.keys import MasterKeyError, key_file_path, load_master_key

    try:
        key = load_master_key(key_file_path(state_dir_of(state.url)))
        check_deployment_key(state.db, key)
        return key
    except MasterKeyError as error:
        raise CommandError(str(error)) from None


def cli_actor() -> str:
    """Who ran the command, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
