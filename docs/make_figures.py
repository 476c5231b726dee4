"""Regenerate the README's figures in docs/img from the shipped weights, through the command line a user has.

    python docs/make_figures.py                      # everything (demo, report, explorer, latent figures)
    python docs/make_figures.py --only map explorer  # some of them
    python docs/make_figures.py --data PATH/TO/camus224 --work /tmp/figures

Steps (each names the files it writes under docs/img):

* ``demo``: ``echolatent demo`` (2 synthetic patients) -> demo_strip.png, demo_temporal.png (4CH sequence of
  patient0001, from the report's figures);
* ``report``: the top of the demo's report.html in chromium -> report_top.png;
* ``latent``: ``echolatent latent traverse|interpolate|sample`` on the CAMUS-224 validation split ->
  traversal.png, interpolation_linear.png (AE, VAE, AR-VAE), samples.png;
* ``map``: ``echolatent latent map`` of the validation split with the demo's 4CH trajectory -> latent_map.png;
* ``explorer``: the explorer page serving the demo and the map, in chromium -> explorer.png.

The browser steps need Debian's chromium (/usr/bin/chromium) and playwright (the dev extra); the latent steps
need the CAMUS-224 data (default ../shared/data/camus224 beside the repository). A step whose needs are missing
is reported and skipped; the others still run. The work folder keeps the demo, so that steps can be rerun.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMG = REPO / "docs" / "img"
CAMUS224 = REPO.parent / "shared" / "data" / "camus224"
CHROMIUM = Path("/usr/bin/chromium")
WEIGHTS = REPO / "src" / "echolatent" / "weights"
SEQUENCE = "patient0001_4CH_half_sequence"
STEPS = ("demo", "report", "latent", "map", "explorer")


def echolatent(*words: str) -> None:
    """Run ``echolatent WORDS`` with this interpreter (one torch thread), failing loudly."""
    command = [sys.executable, "-c", "from echolatent.cli import main; main()", *words]
    print("$ echolatent " + " ".join(words), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def demo(work: Path) -> Path:
    """The demo's output folder (made once per work folder)."""
    out = work / "demo"
    if not (out / "report.html").is_file():
        echolatent("demo", "--out", str(out), "--overwrite", "--threads", "1")
    return out


def step_demo(work: Path, _data: Path) -> list[Path]:
    figures = demo(work) / "report_files"
    written = []
    for kind in ("strip", "temporal"):
        source = next(figures.glob(f"*{SEQUENCE}_{kind}.png"))
        written.append(Path(shutil.copyfile(source, IMG / f"demo_{kind}.png")))
    return written


def step_latent(work: Path, data: Path) -> list[Path]:
    out = work / "latent"
    echolatent("latent", "traverse", "--data", str(data), "--out", str(out))
    echolatent("latent", "interpolate", "--data", str(data), "--out", str(out),
               *(f"--vae={WEIGHTS / name}" for name in ("ae.pt", "vae.pt", "arvae.pt")))
    echolatent("latent", "sample", "--out", str(out))
    names = ("traversal.png", "interpolation_linear.png", "samples.png")
    return [Path(shutil.copyfile(out / name, IMG / name)) for name in names]


def step_map(work: Path, data: Path) -> list[Path]:
    out = work / "map"
    echolatent("latent", "map", "--data", str(data), "--out", str(out), "--results", str(demo(work)),
               "--sequence", SEQUENCE)
    return [Path(shutil.copyfile(out / "latent_map.png", IMG / "latent_map.png"))]


def _browser_page(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
    return browser, browser.new_page(viewport={"width": 1500, "height": 1000})


def step_report(work: Path, _data: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = _browser_page(playwright)
        page.goto((demo(work) / "report.html").as_uri())
        page.screenshot(path=str(IMG / "report_top.png"))
        browser.close()
    return [IMG / "report_top.png"]


def step_explorer(work: Path, data: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from echolatent.explore.latent_view import LatentView
    from echolatent.explore.map_view import MapView
    from echolatent.explore.results_view import ResultsView
    from echolatent.explore.server import Explorer, make_server
    from echolatent.latent.codec import load_model

    if not (work / "map" / "latent_map.json").is_file():
        step_map(work, data)
    latent = LatentView.from_model(load_model())
    explorer = Explorer(latent, ResultsView(demo(work)), MapView.from_file(work / "map", latent.model))
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser, page = _browser_page(playwright)
            page.goto(server.url)
            page.wait_for_selector("body[data-ready='1']", timeout=30000)
            page.fill("#frame", "5")
            page.wait_for_timeout(800)
            page.screenshot(path=str(IMG / "explorer.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return [IMG / "explorer.png"]


def missing_needs(step: str, data: Path) -> str | None:
    """Why ``step`` cannot run here, or None."""
    if step in ("report", "explorer"):
        if not CHROMIUM.exists():
            return f"{CHROMIUM} is not installed (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "playwright is not installed (pip install -e '.[dev]')"
    if step in ("latent", "map", "explorer") and not (data / "database_nifti").is_dir():
        return f"no CAMUS-224 data at {data} (--data)"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS), help="Steps to run (default: all).")
    parser.add_argument("--data", type=Path, default=CAMUS224, help="CAMUS-224 root (default: %(default)s).")
    parser.add_argument("--work", type=Path, default=None, help="Work folder (default: a new temporary folder).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="echolatent-figures-"))
    IMG.mkdir(parents=True, exist_ok=True)
    steps = {"demo": step_demo, "report": step_report, "latent": step_latent, "map": step_map,
             "explorer": step_explorer}
    skipped = 0
    for name in args.only:
        reason = missing_needs(name, args.data)
        if reason:
            print(f"skipped {name}: {reason}", file=sys.stderr)
            skipped += 1
            continue
        for path in steps[name](work, args.data):
            print(f"wrote {path.relative_to(REPO)}")
    print(f"work folder: {work}")
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
