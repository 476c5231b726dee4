"""`echolatent explore [--vae PATH] [--results OUT] [--map MAP]`: the latent explorer web page on a local port."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from echolatent.cli.app import app


@app.command("explore")
def explore(
    vae: Annotated[Path | None, typer.Option("--vae", help="Shape model file (default: shipped AR-VAE).")] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="Output folder of `echolatent run`/`smooth`: sequence viewer.")
    ] = None,
    latent_map: Annotated[Path | None, typer.Option(
        "--map", help="latent_map.json of `echolatent latent map` (PCA; or its folder): map panel.")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (keep it local).")] = "127.0.0.1",
    threads: Annotated[int, typer.Option("--threads", min=1, help="Torch CPU threads for decoding.")] = 1,
) -> None:
    """Serve a page with a slider per latent dimension, the decoded heart and its attributes, live."""
    import torch

    from echolatent.explore.latent_view import LatentView
    from echolatent.explore.map_view import MapView
    from echolatent.explore.results_view import ResultsView
    from echolatent.explore.server import Explorer, make_server
    from echolatent.latent.codec import load_model

    torch.set_num_threads(threads)  # one small decode: more threads only add contention on a shared CPU
    latent = LatentView.from_model(load_model(vae))
    viewer = ResultsView(results) if results is not None else None
    mapped = MapView.from_file(latent_map, latent.model) if latent_map is not None else None
    try:
        server = make_server(Explorer(latent, viewer, mapped), host, port)
    except OSError as err:
        problem = err.strerror or str(err)
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {problem}", param_hint="--port") from None
    if viewer is not None:
        typer.echo(f"{len(viewer.names())} sequence(s) in {results}")
    typer.echo(f"latent explorer on {server.url} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()
