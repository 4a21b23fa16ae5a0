"""`provisioner hardware`: the instances a namespace can deploy, their price and its quota, from
the API's hardware listing (the one the plan checks specs and quota against)."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples, format_option
from provisioner.cli.session import connect
from provisioner.cli.specs import load_specs
from provisioner.hub.errors import ApiError
from provisioner.render.hardware import render_hardware, render_hardware_json
from provisioner.spec.diagnostics import ProvisionerError


@click.command(
    epilog=examples(
        "provisioner hardware --namespace acme --accelerator gpu",
        "provisioner hardware --vendor aws --region us-east-1 --format json",
    )
)
@click.option("--namespace", help="Namespace to list for (default: the stack's namespace).")
@click.option("--vendor", help="Only this cloud vendor (aws, azure, gcp).")
@click.option("--region", help="Only this region (us-east-1, ...).")
@click.option("--accelerator", help="Only this accelerator (cpu, gpu, neuron).")
@click.option(
    "--all", "everything", is_flag=True, help="Include deprecated and unavailable instances."
)
@format_option
@dir_option
@api_url_option
@click.pass_obj
def hardware(
    context: Context,
    namespace: str | None,
    vendor: str | None,
    region: str | None,
    accelerator: str | None,
    everything: bool,
    output: str,
    spec_dir: Path,
    api_url: str | None,
) -> None:
    """What a namespace can deploy: vendor, region, instance, price per hour, quota."""
    # Only the settings matter here (the default namespace): a broken spec is not our business.
    stack, _ = load_specs(spec_dir)
    session = connect(context, stack, api_url)
    namespace = namespace or stack.default_namespace(session.identity.user)
    try:
        rows = session.api.list_hardware(namespace)
    except ApiError as error:
        raise ProvisionerError.because(
            f"cannot list the hardware of namespace {namespace}: {error}"
        ) from error
    wanted = [
        row
        for row in rows
        if (everything or row.deployable)
        and (vendor is None or row.vendor == vendor.lower())
        and (region is None or row.region == region.lower())
        and (accelerator is None or row.accelerator == accelerator.lower())
    ]
    if output == "json":
        click.echo(render_hardware_json(namespace, wanted), nl=False)
    else:
        click.echo(render_hardware(namespace, wanted, everything=everything), nl=False)
