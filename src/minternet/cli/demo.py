"""``minternet demo`` (what ``make demo`` runs): the seed's whole story in the built-in world —
``minternet fetch https://www.example.com/index.html`` with every step told."""

from __future__ import annotations

import click

from ..apps.fetch_run import FetchOptions, run_fetch
from ..report.story import build_story, story_lines
from .fetch_story import failed, show
from .options import seed_option


@click.command()
@seed_option
@click.option("--secrets", is_flag=True, help="Show the TLS secrets and session keys too.")
def demo(seed: int, secrets: bool) -> None:
    """The seed's story: the laptop fetches https://www.example.com/index.html — DNS, the
    TCP and TLS handshakes, encrypted HTTP routed hop by hop, the four-way close."""
    run = run_fetch(FetchOptions(seed=seed))
    story = build_story(run, secrets=secrets)
    show(story, story_lines(story), quiet=False)
    click.echo(
        "\nMore: minternet fetch --help · --pcap run.pcapng (opens decrypted in "
        "Wireshark) · --scenario list (failure stories) · minternet world"
    )
    failed(run)
