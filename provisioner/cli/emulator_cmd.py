"""`provisioner emulator`: serve the local Inference Endpoints API until SIGINT or SIGTERM.

Prints exactly one line, the base URL, to stdout (flushed, so a script can read it) before serving;
everything else goes to stderr. Bad flags, an unreadable `--config` or `--data` file and a busy port
are usage errors with a one-line message, never a traceback.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from provisioner.emulator import Emulator


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8790,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file keeping endpoints and emulated time across restarts (created if missing).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file with users, orgs, quotas and durations (see the emulator README).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Emulated seconds per real second; 0 freezes time.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Fixed latency added to every request.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability of a random 429/500/503 on /v2 API calls.",
)
@click.option("--seed", type=int, help="Seed for the random faults (deterministic runs).")
def emulator(
    *,
    host: str,
    port: int,
    data_file: Path | None,
    config_file: Path | None,
    speed: float,
    latency_ms: int,
    fault_rate: float,
    seed: int | None,
) -> None:
    """Run a local emulator of the Hugging Face Inference Endpoints API."""
    emu = _build(
        speed=speed,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        seed=seed,
        data_file=data_file,
        config_file=config_file,
    )
    _serve(emu, host=host, port=port)


def _build(
    *,
    speed: float,
    latency_ms: int,
    fault_rate: float,
    seed: int | None,
    data_file: Path | None,
    config_file: Path | None,
) -> Emulator:
    """The emulator the flags describe; a bad flag or file is a usage error naming it."""
    from provisioner.emulator import ConfigError, Emulator, EmulatorConfig, load_config_file

    try:
        config = EmulatorConfig(
            speed=speed,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            seed=seed,
            data_file=data_file,
        )
    except ConfigError as err:
        raise click.UsageError(str(err)) from err
    if config_file is not None:
        try:
            config = load_config_file(config_file, config)
        except ConfigError as err:
            raise click.BadParameter(str(err), param_hint="'--config'") from err
    try:
        return Emulator(config)
    except ConfigError as err:
        raise click.BadParameter(str(err), param_hint="'--data'") from err


def _serve(emu: Emulator, *, host: str, port: int) -> None:
    """Print the URL, serve until SIGINT or SIGTERM, then stop and restore the handlers."""
    from provisioner.emulator import ConfigError

    # Handlers go in before the URL is printed: a script may signal as soon as it has read it.
    stop = threading.Event()
    previous = _install_handlers(stop)
    try:
        try:
            url = emu.start(host=host, port=port)
        except ConfigError as err:
            raise click.BadParameter(str(err), param_hint="'--data'") from err
        except OSError as err:
            raise click.UsageError(
                f"cannot listen on {host}:{port}: {err.strerror or err}"
            ) from err
        logging.basicConfig(
            level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr
        )
        click.echo(url)
        sys.stdout.flush()
        click.echo(f"Inference Endpoints emulator serving at {url} (Ctrl-C to stop)", err=True)
        click.echo(
            f"Use it: PROVISIONER_API_URL={url} HF_TOKEN=hf_demo provisioner plan; "
            f"huggingface_hub's CLI: provisioner hf --api-url {url} endpoints ls --namespace acme",
            err=True,
        )
        # A bounded wait keeps the main thread returning to the interpreter, where handlers run.
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _install_handlers(stop: threading.Event) -> dict[int, Any]:
    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
