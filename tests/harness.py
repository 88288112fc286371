"""Test harness: train the reference bot once per fingerprint, and run real ``rasa run`` / ``rasa run actions`` processes.

Used by ``tests/conftest.py`` and by benchmark scripts; it only drives the real command-line tools.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RASA = str(VENV_BIN / "rasa")
MODEL_DIR = ROOT / "models"
# Everything that changes what `rasa train` produces. The plugin's engine and NLU component shape training text.
FINGERPRINT_INPUTS = ("config.yml", "domain.yml", "data", "privacy.yml", "plugin/pii", "plugin/server", "plugin/policy")
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


class HarnessError(RuntimeError):
    """Training or a server start failed; the message carries the tail of the process log."""


def _files(inputs: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for name in inputs:
        path = ROOT / name
        if path.is_dir():
            # The engine's mypyc build (plugin/pii/_compiled*) answers as its sources do (tests/pii/test_compiled.py).
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts and not any(part.startswith("_compiled") for part in p.parts)
            )
        elif path.exists():
            found.append(path)
    return found


def model_fingerprint() -> str:
    """Hash of the training inputs and the Rasa version: a model with this name can be reused as is."""
    digest = hashlib.sha256()
    from rasa import __version__ as rasa_version

    digest.update(rasa_version.encode())
    for path in _files(FINGERPRINT_INPUTS):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def subprocess_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(QUIET_ENV)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def trained_model(log_dir: Path) -> Path:
    """Path of a model trained on the current inputs: reuse ``models/test-<fingerprint>.tar.gz`` or train it now."""
    name = f"test-{model_fingerprint()}"
    model = MODEL_DIR / f"{name}.tar.gz"
    if model.exists():
        return model
    MODEL_DIR.mkdir(exist_ok=True)
    log = log_dir / "train.log"
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            [RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
             "--out", str(MODEL_DIR), "--fixed-model-name", name],
            cwd=ROOT, env=subprocess_env(), stdout=out, stderr=subprocess.STDOUT,
        )
    if result.returncode != 0 or not model.exists():
        raise HarnessError(f"rasa train failed ({result.returncode}):\n{_tail(log)}")
    for stale in MODEL_DIR.glob("test-*.tar.gz"):
        # A model younger than an hour may be in use by a concurrent test run on another fingerprint.
        if stale != model and time.time() - stale.stat().st_mtime > 3600:
            stale.unlink(missing_ok=True)
    print(f"\n[harness] trained {model.name} in {time.monotonic() - started:.0f} s")
    return model


# Ports for servers the tests start later: below the kernel's ephemeral range (32768-60999 on Linux), so no port the
# kernel hands out in the meantime (a client connection, a server bound to port 0) can take one before its server
# binds it, and never the same one twice in a process.
_PORT_RANGE = (20000, 32000)
_issued_ports: set = set()


def free_port() -> int:
    while True:
        port = random.randint(*_PORT_RANGE)
        if port in _issued_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _issued_ports.add(port)
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class ServerProcess:
    """One real server process with its log file."""

    name: str
    args: List[str]
    log: Path
    env: Dict[str, str]
    process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until(self, url: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise HarnessError(f"{self.name} exited with {self.process.returncode}:\n{_tail(self.log)}")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise HarnessError(f"{self.name} not ready after {timeout_s:.0f} s:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if hasattr(self, "_out"):
            self._out.close()


@dataclass
class RasaStack:
    """A real ``rasa run`` (REST channel, optional HTTP API) and ``rasa run actions`` on free loopback ports."""

    model: Path
    workdir: Path
    enable_api: bool = False
    auth_token: Optional[str] = None
    debug: bool = False
    extra_env: Dict[str, str] = field(default_factory=dict)
    endpoints_extra: str = ""
    masking_store: bool = True
    action_endpoint_url: Optional[str] = None  # e.g. a RecordingProxy in front of the action server
    channel_path: str = "guard"
    callback_url: Optional[str] = None  # where GuardedCallbackInput pushes replies (e.g. a CallbackRecorder)
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    tracker_store_yaml: Optional[str] = None  # a whole `tracker_store:` section instead of the SQLite one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def endpoints_file(self) -> Path:
        path = self.workdir / "endpoints.yml"
        if self.tracker_store_yaml is not None:
            tracker_store = self.tracker_store_yaml
        elif self.masking_store:
            tracker_store = (
                "tracker_store:\n  type: plugin.server.tracker_store.MaskingTrackerStore\n  store:\n"
                f"    type: SQL\n    dialect: sqlite\n    db: \"{self.tracker_db}\"\n"
            )
        else:
            tracker_store = f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: \"{self.tracker_db}\"\n"
        # As in the reference endpoints.yml: locks keyed like the stored conversations.
        locks = "lock_store:\n  type: plugin.server.lock_store.PseudonymousLockStore\n" if self.masking_store else ""
        path.write_text(
            f"action_endpoint:\n  url: \"{self.action_endpoint_url or self.actions_url}/webhook\"\n"
            + tracker_store
            + locks
            + self.endpoints_extra
        )
        return path

    def stored_id(self, sender: str) -> str:
        """The id this stack stores a conversation under (``storage.conversation_ids``: a pseudonym by default),
        derived from the stack's master key, which the servers create on their first message."""
        from plugin.policy.settings import load_privacy_config
        from plugin.storage.conversation_ids import for_mode
        from plugin.storage.keys import read_key_file

        config = load_privacy_config(self.extra_env.get("RASA_GUARD_CONFIG") or str(ROOT / "privacy.yml"))
        mode = config.settings.storage.conversation_ids
        return for_mode(mode, read_key_file(self.workdir / "master.key")).stored(sender)

    def credentials_file(self) -> Path:
        """The reference credentials.yml, with the callback channel pointed at ``callback_url`` when given."""
        if self.callback_url is None:
            return ROOT / "credentials.yml"
        import yaml

        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
        credentials.setdefault("plugin.server.channel.GuardedCallbackInput", {})["url"] = self.callback_url
        path = self.workdir / "credentials.yml"
        path.write_text(yaml.safe_dump(credentials))
        return path

    def __enter__(self) -> "RasaStack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = subprocess_env(
            {
                "RASA_GUARD_CONFIG": str(ROOT / "privacy.yml"),
                "RASA_GUARD_STATE_URL": f"sqlite:///{self.workdir / 'state.db'}",
                **self.extra_env,
            }
        )
        self.actions = ServerProcess(
            "rasa run actions",
            [RASA, "run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
            self.workdir / "actions.log",
            env,
        )
        rasa_args = [RASA, "run", "--model", str(self.model), "--port", str(self.rasa_port),
                     "--interface", "127.0.0.1", "--endpoints", str(self.endpoints_file()),
                     "--credentials", str(self.credentials_file())]
        if self.enable_api:
            rasa_args.append("--enable-api")
        if self.auth_token:
            rasa_args += ["--auth-token", self.auth_token]
        if self.debug:
            rasa_args.append("--debug")
        self.rasa = ServerProcess("rasa run", rasa_args, self.workdir / "rasa.log", env)
        try:
            self.actions.start()
            self.rasa.start()
            self.actions.wait_until(f"{self.actions_url}/health", timeout_s=60)
            self.rasa.wait_until(f"{self.url}/webhooks/{self.channel_path}/", timeout_s=180)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (getattr(self, "rasa", None), getattr(self, "actions", None)):
            if server is not None:
                server.stop()

    def restart_rasa(self) -> None:
        """Stop and start `rasa run` on the same tracker store and state (in-memory reminders are lost)."""
        self.rasa.stop()
        self.rasa = ServerProcess("rasa run", self.rasa.args, self.workdir / "rasa-restarted.log", self.rasa.env)
        self.rasa.start()
        self.rasa.wait_until(f"{self.url}/webhooks/{self.channel_path}/", timeout_s=180)

    def post(self, payload: dict, headers: Optional[Dict[str, str]] = None, path: Optional[str] = None) -> requests.Response:
        """POST a raw payload to a channel webhook (default: the guard channel), without raising on refusals."""
        return requests.post(
            f"{self.url}/webhooks/{path or self.channel_path}/webhook", json=payload, headers=headers or {}, timeout=30
        )

    def send(self, sender: str, text: str, timeout_s: float = 30) -> List[dict]:
        """Chat over the REST webhook as a customer would; returns the bot's messages."""
        response = requests.post(
            f"{self.url}/webhooks/{self.channel_path}/webhook", json={"sender": sender, "message": text}, timeout=timeout_s
        )
        response.raise_for_status()
        return response.json()



class RecordingProxy:
    """An HTTP proxy on loopback that keeps every request body it forwards (what the action server received)."""

    def __init__(self, target: str, sink: Path) -> None:
        import http.server
        import threading

        self.target = target.rstrip("/")
        self.sink = sink
        self.count = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.sink.open("ab") as out:
                    out.write(body + b"\n")
                proxy.count += 1
                upstream = requests.post(
                    proxy.target + self.path, data=body, headers={"Content-Type": "application/json"}, timeout=60
                )
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
