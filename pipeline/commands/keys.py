"""``fleetwatch keys generate|list``: Ed25519 key pairs for the issuer and operators."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from pipeline.commands import one_line_errors


@click.group()
def keys() -> None:
    """Signing keys: the issuer and each operator sign; nodes hold only the keyring."""


@keys.command()
@click.option("--role", type=click.Choice(["issuer", "operator"]), required=True)
@click.option("--identity", help="Operator name (default: your login); 'fleet' for the issuer.")
@click.option(
    "--keyring",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Keyring JSON the public key is added to (created when missing); ship it to nodes.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory of the private key file (written 0600, never overwritten).",
)
@click.option("--valid-days", type=click.IntRange(1, 3650), default=365, show_default=True)
@click.option(
    "--starts-in-days",
    type=click.IntRange(0, 3650),
    default=0,
    show_default=True,
    help="Not valid before this many days from now (rotation: overlap the old key's window).",
)
@one_line_errors
def generate(
    role: str,
    identity: str | None,
    keyring: Path,
    out_dir: Path,
    valid_days: int,
    starts_in_days: int,
) -> None:
    """Create a key pair: private key to --out, public key into --keyring."""
    from pipeline.control.keys import Role, create_key
    from pipeline.control.operators import operator_name
    from pipeline.models import utc_now

    who = identity or ("fleet" if role == "issuer" else operator_name())
    starts = utc_now() + timedelta(days=starts_in_days)
    kind: Role = "issuer" if role == "issuer" else "operator"
    ends = starts + timedelta(days=valid_days)
    path, entry = create_key(out_dir, keyring, kind, who, starts, ends)
    click.echo(f"{entry.key_id}: private key {path} (mode 0600), public key added to {keyring}")


@keys.command("list")
@click.option("--keyring", type=click.Path(path_type=Path, dir_okay=False), required=True)
@one_line_errors
def list_keys(keyring: Path) -> None:
    """Print the keyring: key id, role, identity, validity, and whether valid now."""
    from pipeline.control.keys import load_keyring
    from pipeline.models import utc_now

    now = utc_now()
    for entry in load_keyring(keyring).entries.values():
        state = "valid" if entry.not_before <= now <= entry.not_after else "not valid now"
        click.echo(
            f"{entry.key_id}  {entry.role:<8} {entry.identity:<16} "
            f"{entry.not_before.isoformat(timespec='seconds')} .. "
            f"{entry.not_after.isoformat(timespec='seconds')}  {state}"
        )
