"""``echolatent segment``: U-Net masks ``OUT/<patient>/<name>_pred.nii.gz`` for every image under an input, each with
the shape, orientation, spacing and frame order of its image file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from echolatent.io.camus import SequenceRef, output_path, write_mask
from echolatent.io.discovery import select_refs
from echolatent.io.recordings import load_any
from echolatent.io.sector import apply_sector, cut_masks, detect_sector
from echolatent.jobs.loop import Progress, run_folder_job
from echolatent.outdir import guarded_output
from echolatent.segment import Segmenter, segment_masks

log = logging.getLogger(__name__)


def segment_ref(ref: SequenceRef, out: str | Path, segmenter: Segmenter, batch_size: int = 16,
                sector: str = "auto") -> Path:
    """Segment one image (any format) into ``OUT/<patient>/<name>_pred.nii.gz``; returns the mask file.

    ``sector``: auto|cut|off: cut the frames and the masks to the detected ultrasound fan when
    :func:`echolatent.io.sector.cut_masks` says so.

    Raises:
        InputError: unreadable or bad image file (naming it).
    """
    seq = load_any(ref).seq
    fan = detect_sector(seq.image).mask if sector != "off" else None
    fan = fan if fan is not None and cut_masks(sector, seq.image, fan) else None
    images = seq.image if fan is None else apply_sector(seq.image, fan)
    masks = segment_masks(segmenter, images, batch_size=batch_size)
    masks = masks if fan is None else apply_sector(masks, fan)
    path = write_mask(seq, masks, output_path(ref, out, "_pred"))
    log.debug("%s -> %s", ref.image, path)
    return path


@dataclass
class SegmentJob:
    """The :class:`~echolatent.jobs.loop.FolderJob` of ``segment``: images -> ``_pred`` files (no tables)."""

    source: Path
    out: Path
    segmenter: Segmenter
    kinds: Sequence[str] | None = None
    batch_size: int = 16
    sector: str = "auto"
    name: str = "segment"
    skip_bad: bool = False

    def find(self) -> list[SequenceRef]:
        return select_refs(self.source, self.kinds)

    def process(self, index: int, item: SequenceRef) -> Path:
        return segment_ref(item, self.out, self.segmenter, self.batch_size, self.sector)

    def summarise(self, done: list[Path], skipped: dict[str, str]) -> dict:
        return {"written": [str(p) for p in done], "skipped": skipped}


def segment_path(
    source: str | Path,
    out: str | Path,
    segmenter: Segmenter,
    *,
    kinds: Sequence[str] | None = None,
    batch_size: int = 16,
    progress: Progress | None = None,
    sector: str = "auto",
) -> list[Path]:
    """Segment every image :func:`~echolatent.io.discovery.select_refs` finds under ``source`` into ``out``
    (``kinds=None``: the sequences when present, else the ED/ES frames); returns the written paths.

    Raises:
        InputError: missing source, no image, a bad image file.
    """
    job = SegmentJob(Path(source), Path(out), segmenter, kinds, batch_size, sector)
    with guarded_output(out, [source], command="segment"):
        return [Path(p) for p in run_folder_job(job, progress)["written"]]
